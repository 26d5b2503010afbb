using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>
/// Reads a workspace's changes the way git records them, without trusting anything in the workspace: the gateway's own
/// repository (<see cref="WorkspaceSession.GitDirectory"/>, which no container can reach) is compared with the workspace's
/// files through a private index, so the workspace's <c>.git</c> (config, hooks, fsmonitor, filters) is never read. What
/// is reported comes from git's objects: a symbolic link is its target text (mode 120000), never the file it points at;
/// modes are kept; binary content is bytes; any UTF-8 path name works (NUL-separated output). The change's limits are
/// checked on git's sizes before any content is read, so an oversized change is refused without loading it. The git that
/// does it can start no other program (<see cref="Git"/>'s sealedOff), and is told to leave alone every repository nested
/// in the work tree (the base's submodules, and any folder holding a <c>.git</c>): those are never part of a change.
/// </summary>
public sealed class ChangeCollector(IOptions<ChangeLimits> limits, IOptions<ToolGatewayOptions> options)
{
    private const string EmptyBlob = "0000000000000000000000000000000000000000";
    // A raw diff line is ~100 bytes plus the path, which the kernel caps at 4096.
    private const int RawEntryMaxBytes = 4_300;

    public async Task<CollectedChanges> CollectAsync(WorkspaceSession session, CancellationToken cancellationToken)
    {
        var timeout = options.Value.CollectTimeout;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        // Its own index: a repeated request for the same session may run beside this one.
        var index = Path.Combine(session.Folder, $"collect-{Guid.NewGuid():N}.index");
        try
        {
            return await CollectAsync(session, new Git(session.GitDirectory, session.Directory, index, sealedOff: true), limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new GitException($"Collecting the changes took longer than {timeout} (COLLECT_TIMEOUT)");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new GitException($"The workspace cannot be read: {e.Message}");
        }
        finally
        {
            File.Delete(index);
        }
    }

    private async Task<CollectedChanges> CollectAsync(WorkspaceSession session, Git git, CancellationToken cancellationToken)
    {
        var max = limits.Value;
        await git.RunAsync(["read-tree", session.BaseCommit], cancellationToken);
        // A repository nested in the work tree is not part of the change: git would look inside it (with a git of its own,
        // which may not start here), record it as a submodule, or refuse it outright when it has no commit yet.
        var nested = (await SubmodulesAsync(git, session.BaseCommit, cancellationToken)).Concat(NestedRepositories(session.Directory)).Distinct();
        await git.RunAsync(["add", "--all", "--", ".", .. nested.Select(p => $":(exclude,literal){p}")], cancellationToken);
        var raw = await git.RunAsync(["diff", "--cached", "--raw", "-z", "--no-renames", "--no-ext-diff", "--no-abbrev", session.BaseCommit],
            cancellationToken, maxOutputBytes: (max.MaxFiles + 1) * RawEntryMaxBytes);
        var entries = RawEntry.Parse(raw.Output);
        if (entries.Count > max.MaxFiles)
        {
            return CollectedChanges.TooLarge(raw.OutputCut
                ? $"more than {max.MaxFiles} files changed; the limit is {max.MaxFiles} (PUBLISH_MAX_FILES)"
                : $"{entries.Count} files changed; the limit is {max.MaxFiles} (PUBLISH_MAX_FILES)");
        }

        var blobs = entries.Where(e => e.Change != FileChange.Deleted && e.Mode != GitFileMode.Submodule).ToList();
        var sizes = await SizesAsync(git, blobs, cancellationToken);
        // Per file, as Publisher counts: the same content in two files is written twice.
        var total = blobs.Sum(b => sizes[b.NewSha]);
        if (total > max.MaxBytes)
        {
            var largest = blobs.OrderByDescending(b => sizes[b.NewSha]).Take(3).Select(b => $"{DisplayText.Path(b.Path)} ({sizes[b.NewSha]:N0} bytes)");
            return CollectedChanges.TooLarge(
                $"the change adds {total:N0} bytes; the limit is {max.MaxBytes:N0} (PUBLISH_MAX_BYTES). Largest: {string.Join(", ", largest)}");
        }

        var contents = await ContentsAsync(git, blobs, sizes.Values.Sum(), cancellationToken);
        var files = entries.Select(e => e.ToChangedFile(contents)).ToList();
        // --text: a file the work tree's attributes call binary (-diff) is still shown to the reviewer as what it is.
        var diffLimit = (int)Math.Min(int.MaxValue, 2 * max.MaxBytes + 64 * 1024);
        var diff = await git.RunAsync(["diff", "--cached", "--text", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", session.BaseCommit],
            cancellationToken, maxOutputBytes: diffLimit);
        var diffText = Encoding.UTF8.GetString(diff.Output);
        if (diff.OutputCut)
            diffText += $"\n[… the diff is cut here: it is longer than {diffLimit:N0} bytes]\n";
        // The tree of exactly this change on the base commit: what verification checks out (and what is published).
        var tree = (await git.TextAsync(cancellationToken, "write-tree")).Trim();
        return new CollectedChanges(files, diffText, null, tree);
    }

    /// <summary>The base commit's submodules (mode 160000 entries): never looked into, never changed.</summary>
    private static async Task<IEnumerable<string>> SubmodulesAsync(Git git, string commit, CancellationToken cancellationToken)
    {
        var listing = (await git.RunAsync(["ls-tree", "-r", "-z", "--full-tree", commit], cancellationToken)).Output;
        return Encoding.UTF8.GetString(listing).Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("160000 ", StringComparison.Ordinal)).Select(line => line[(line.IndexOf('\t') + 1)..]).ToList();
    }

    /// <summary>Folders below the root that hold a <c>.git</c> of their own, relative to the root; links are not followed.</summary>
    private static List<string> NestedRepositories(string root)
    {
        var nested = new List<string>();
        var pending = new Queue<DirectoryInfo>([new DirectoryInfo(root)]);
        // A folder that cannot be listed fails the collection: it could hide a .git.
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
        while (pending.TryDequeue(out var folder))
        {
            var children = folder.EnumerateFileSystemInfos("*", options).ToList();
            if (folder.FullName != root && children.Any(c => c.Name == ".git"))
            {
                nested.Add(Path.GetRelativePath(root, folder.FullName));
                continue;
            }
            foreach (var child in children)
            {
                if (child is DirectoryInfo directory && child.Name != ".git" && child.LinkTarget is null)
                    pending.Enqueue(directory);
            }
        }
        return nested;
    }

    private static async Task<Dictionary<string, long>> SizesAsync(Git git, IReadOnlyList<RawEntry> blobs, CancellationToken cancellationToken)
    {
        var sizes = new Dictionary<string, long>();
        if (blobs.Count == 0)
            return sizes;
        var input = Encoding.ASCII.GetBytes(string.Join("", blobs.Select(b => b.NewSha + "\n").Distinct()));
        var output = (await git.RunAsync(["cat-file", "--batch-check=%(objectname) %(objectsize)"], cancellationToken, input)).Text;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            sizes[parts[0]] = long.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        return sizes;
    }

    /// <summary>The blobs' bytes, from one <c>git cat-file --batch</c>: "&lt;sha&gt; &lt;type&gt; &lt;size&gt;\n&lt;bytes&gt;\n" each.</summary>
    private static async Task<Dictionary<string, byte[]>> ContentsAsync(Git git, IReadOnlyList<RawEntry> blobs, long total, CancellationToken cancellationToken)
    {
        var contents = new Dictionary<string, byte[]>();
        var shas = blobs.Select(b => b.NewSha).Distinct().ToList();
        if (shas.Count == 0)
            return contents;
        var output = (await git.RunAsync(["cat-file", "--batch"], cancellationToken, Encoding.ASCII.GetBytes(string.Join("", shas.Select(s => s + "\n"))),
            maxOutputBytes: (int)total + shas.Count * 128)).Output;
        var at = 0;
        foreach (var sha in shas)
        {
            var headerEnd = Array.IndexOf(output, (byte)'\n', at);
            var header = Encoding.ASCII.GetString(output, at, headerEnd - at).Split(' ');
            if (header[0] != sha || header.Length != 3)
                throw new GitException($"git cat-file answered '{string.Join(' ', header)}' for {sha}");
            var size = int.Parse(header[2], CultureInfo.InvariantCulture);
            contents[sha] = output[(headerEnd + 1)..(headerEnd + 1 + size)];
            at = headerEnd + 1 + size + 1;
        }
        return contents;
    }

    /// <summary>One line of <c>git diff --raw -z</c>: ":oldmode newmode oldsha newsha status\0path\0".</summary>
    private sealed record RawEntry(string Path, FileChange Change, GitFileMode Mode, string NewSha)
    {
        public static List<RawEntry> Parse(byte[] output)
        {
            var fields = Fields(output);
            var entries = new List<RawEntry>();
            // The last field may be cut off (or empty after the final NUL): only whole pairs count.
            for (var i = 0; i + 1 < fields.Count; i += 2)
            {
                var meta = fields[i].TrimStart(':').Split(' ');
                if (meta.Length < 5)
                    break;
                var change = meta[4][0] switch { 'A' => FileChange.Added, 'D' => FileChange.Deleted, _ => FileChange.Modified };
                var mode = change == FileChange.Deleted ? meta[0] : meta[1];
                entries.Add(new RawEntry(fields[i + 1], change, ModeOf(mode), change == FileChange.Deleted ? EmptyBlob : meta[3]));
            }
            return entries;
        }

        public ChangedFile ToChangedFile(IReadOnlyDictionary<string, byte[]> contents)
        {
            if (Change == FileChange.Deleted)
                return new ChangedFile(Path, Change, null, Mode);
            if (Mode == GitFileMode.Submodule)
                return new ChangedFile(Path, Change, NewSha, Mode);
            var bytes = contents[NewSha];
            return TryText(bytes) is { } text ? new ChangedFile(Path, Change, text, Mode) : new ChangedFile(Path, Change, null, Mode, bytes);
        }

        /// <summary>The NUL-separated fields, each strictly UTF-8: GitHub's paths are, and one that is not could not be published as itself.</summary>
        private static List<string> Fields(byte[] output)
        {
            var fields = new List<string>();
            var at = 0;
            for (var end = Array.IndexOf(output, (byte)0); end >= 0; at = end + 1, end = Array.IndexOf(output, (byte)0, at))
            {
                fields.Add(TryText(output[at..end]) ?? throw new GitException(
                    $"A changed path is not UTF-8 text: {Encoding.UTF8.GetString(output[at..end]).Replace('\uFFFD', '?')}"));
            }
            if (at < output.Length)
                fields.Add(TryText(output[at..]) ?? "");
            return fields;
        }

        private static GitFileMode ModeOf(string mode) => mode switch
        {
            "100755" => GitFileMode.Executable,
            "120000" => GitFileMode.Symlink,
            "160000" => GitFileMode.Submodule,
            _ => GitFileMode.Regular,
        };
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The bytes as text when they are UTF-8 without NUL (what git itself would call text); otherwise null.</summary>
    public static string? TryText(byte[] bytes)
    {
        if (Array.IndexOf(bytes, (byte)0) >= 0)
            return null;
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}

/// <summary>What a collection found: the files and the diff, or why they cannot be proposed.</summary>
/// <param name="Tree">The git tree of the base commit with the change, in the gateway's own repository.</param>
public sealed record CollectedChanges(IReadOnlyList<ChangedFile> Files, string Diff, string? Refusal, string? Tree = null)
{
    public const string TooLargeReason = "changes-too-large";

    public static CollectedChanges TooLarge(string detail) => new([], "", detail);
}
