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
/// modes are kept; binary content is bytes; any path name works (NUL-separated output). The change's limits are checked
/// on git's sizes before any content is read, so an oversized change is refused without loading it.
/// </summary>
public sealed class ChangeCollector(IOptions<ChangeLimits> limits)
{
    private const string EmptyBlob = "0000000000000000000000000000000000000000";
    // A raw diff line is ~100 bytes plus the path, which the kernel caps at 4096.
    private const int RawEntryMaxBytes = 4_300;

    public async Task<CollectedChanges> CollectAsync(WorkspaceSession session, CancellationToken cancellationToken)
    {
        var max = limits.Value;
        var index = Path.Combine(session.Folder, "collect.index");
        File.Delete(index);
        var git = new Git(session.GitDirectory, session.Directory, index);
        try
        {
            await git.RunAsync(["read-tree", session.BaseCommit], cancellationToken);
            // A repository nested in the work tree (a folder with its own .git) is not part of the change: git would record
            // it as a submodule, or refuse it outright when it has no commit yet.
            await git.RunAsync(["add", "--all", "--", ".", .. NestedRepositories(session.Directory).Select(p => $":(exclude,literal){p}")],
                cancellationToken);
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
            var total = sizes.Values.Sum();
            if (total > max.MaxBytes)
            {
                var largest = blobs.OrderByDescending(b => sizes[b.NewSha]).Take(3).Select(b => $"`{b.Path}` ({sizes[b.NewSha]:N0} bytes)");
                return CollectedChanges.TooLarge(
                    $"the change adds {total:N0} bytes; the limit is {max.MaxBytes:N0} (PUBLISH_MAX_BYTES). Largest: {string.Join(", ", largest)}");
            }

            var contents = await ContentsAsync(git, blobs, total, cancellationToken);
            var files = entries.Select(e => e.ToChangedFile(contents)).ToList();
            var diffLimit = (int)Math.Min(int.MaxValue, 2 * max.MaxBytes + 64 * 1024);
            var diff = await git.RunAsync(["diff", "--cached", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", session.BaseCommit],
                cancellationToken, maxOutputBytes: diffLimit);
            var diffText = Encoding.UTF8.GetString(diff.Output);
            if (diff.OutputCut)
                diffText += $"\n[… the diff is cut here: it is longer than {diffLimit:N0} bytes]\n";
            return new CollectedChanges(files, diffText, null);
        }
        finally
        {
            File.Delete(index);
        }
    }

    /// <summary>Folders below the root that hold a <c>.git</c> of their own, relative to the root; links are not followed.</summary>
    private static List<string> NestedRepositories(string root)
    {
        var nested = new List<string>();
        var pending = new Queue<DirectoryInfo>([new DirectoryInfo(root)]);
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true, RecurseSubdirectories = false };
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
            var fields = Encoding.UTF8.GetString(output).Split('\0');
            var entries = new List<RawEntry>();
            // The last field may be cut off (or empty after the final NUL): only whole pairs count.
            for (var i = 0; i + 1 < fields.Length; i += 2)
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
public sealed record CollectedChanges(IReadOnlyList<ChangedFile> Files, string Diff, string? Refusal)
{
    public const string TooLargeReason = "changes-too-large";

    public static CollectedChanges TooLarge(string detail) => new([], "", detail);
}
