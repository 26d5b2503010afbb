using System.Globalization;
using System.Diagnostics;
using System.Text;

namespace Orchestrator.Testing.GitHub;

/// <summary>
/// The fake GitHub's git database: a real bare repository driven with git plumbing, so blobs, trees, commits and refs
/// have real, content-addressed SHAs and the result can be cloned and inspected with git.
/// </summary>
public sealed class FakeGitStore(string gitDirectory)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string GitDirectory { get; } = gitDirectory;

    public async Task<string?> ResolveAsync(string reference) =>
        (await TryGitAsync(null, null, "rev-parse", "--verify", "--quiet", reference + "^{commit}"))?.Trim();

    /// <summary>Every ref and the commit it names.</summary>
    public async Task<IReadOnlyList<(string Name, string Sha)>> RefsAsync()
    {
        var output = await GitAsync(null, null, "for-each-ref", "--format=%(refname) %(objectname)");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Select(p => (p[0], p[1]))];
    }

    public async Task<bool> ExistsAsync(string sha) => await TryGitAsync(null, null, "cat-file", "-e", sha) is not null;

    public Task<string> WriteBlobAsync(byte[] content) => Locked(async () => (await GitAsync(null, content, "hash-object", "-w", "--stdin")).Trim());

    /// <summary>A tree from <paramref name="baseTree"/> with entries set or (sha null, no content) removed.</summary>
    public Task<string> WriteTreeAsync(string? baseTree, IReadOnlyList<(string Path, string Mode, string? Sha, string? Content)> entries) => Locked(async () =>
    {
        var index = Path.Combine(Path.GetTempPath(), "fake-github-index-" + Guid.NewGuid().ToString("N"));
        var env = new Dictionary<string, string> { ["GIT_INDEX_FILE"] = index };
        try
        {
            if (baseTree is not null)
                await GitAsync(env, null, "read-tree", baseTree);
            else
                await GitAsync(env, null, "read-tree", "--empty");
            foreach (var (path, mode, sha, content) in entries)
            {
                var blob = content is not null ? (await GitAsync(null, Encoding.UTF8.GetBytes(content), "hash-object", "-w", "--stdin")).Trim() : sha;
                // Mode 0 removes the entry (--force-remove would need a work tree, and this repository is bare).
                if (blob is null)
                    await GitAsync(env, Encoding.UTF8.GetBytes($"0 {new string('0', 40)}\t{path}\n"), "update-index", "--index-info");
                else
                    await GitAsync(env, null, "update-index", "--add", "--cacheinfo", $"{mode},{blob},{path}");
            }
            return (await GitAsync(env, null, "write-tree")).Trim();
        }
        finally
        {
            File.Delete(index);
        }
    });

    public Task<string> WriteCommitAsync(string tree, IReadOnlyList<string> parents, string message, Signature author, Signature committer) => Locked(async () =>
    {
        var env = new Dictionary<string, string>
        {
            ["GIT_AUTHOR_NAME"] = author.Name,
            ["GIT_AUTHOR_EMAIL"] = author.Email,
            ["GIT_AUTHOR_DATE"] = author.Date.ToString("O"),
            ["GIT_COMMITTER_NAME"] = committer.Name,
            ["GIT_COMMITTER_EMAIL"] = committer.Email,
            ["GIT_COMMITTER_DATE"] = committer.Date.ToString("O"),
        };
        var args = new List<string> { "commit-tree", tree };
        foreach (var parent in parents)
            args.AddRange(["-p", parent]);
        return (await GitAsync(env, Encoding.UTF8.GetBytes(message), [.. args])).Trim();
    });

    public async Task<CommitInfo?> ReadCommitAsync(string sha)
    {
        var text = await TryGitAsync(null, null, "cat-file", "commit", sha);
        if (text is null)
            return null;
        var header = text[..text.IndexOf("\n\n", StringComparison.Ordinal)].Split('\n');
        var message = text[(text.IndexOf("\n\n", StringComparison.Ordinal) + 2)..];
        return new CommitInfo(
            sha,
            header.First(l => l.StartsWith("tree ", StringComparison.Ordinal))[5..],
            [.. header.Where(l => l.StartsWith("parent ", StringComparison.Ordinal)).Select(l => l[7..])],
            message,
            Person(header.First(l => l.StartsWith("author ", StringComparison.Ordinal))[7..]),
            Person(header.First(l => l.StartsWith("committer ", StringComparison.Ordinal))[10..]));
    }

    // "Name <email> 1700000000 +0000"
    private static Signature Person(string line)
    {
        var open = line.LastIndexOf('<');
        var close = line.LastIndexOf('>');
        var seconds = long.Parse(line[(close + 2)..].Split(' ')[0], CultureInfo.InvariantCulture);
        return new Signature(line[..open].Trim(), line[(open + 1)..close], DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    /// <summary>
    /// A person's push: a commit by <paramref name="author"/> writing <paramref name="path"/> on top of the branch's head,
    /// and the branch moved to it, as a `git push` from someone's clone would. Returns the commit.
    /// </summary>
    public async Task<string> PushAsync(string branch, string path, string content, string author = "mona")
    {
        var head = await ResolveAsync($"refs/heads/{branch}") ?? throw new InvalidOperationException($"no branch {branch}");
        var tree = await WriteTreeAsync((await ReadCommitAsync(head))!.Tree, [(path, "100644", null, content)]);
        var person = new Signature(author, $"{author}@example.invalid", DateTimeOffset.UtcNow);
        var commit = await WriteCommitAsync(tree, [head], $"{author}'s change to {path}", person, person);
        await SetRefAsync($"refs/heads/{branch}", commit);
        return commit;
    }

    public Task<string> SetRefAsync(string reference, string sha) => Locked(() => GitAsync(null, null, "update-ref", reference, sha));

    public async Task<bool> IsAncestorAsync(string ancestor, string descendant) =>
        await TryGitAsync(null, null, "merge-base", "--is-ancestor", ancestor, descendant) is not null;

    /// <summary>Every commit reachable from any ref or none (dangling ones included): what "a second commit" would be.</summary>
    public async Task<IReadOnlyList<string>> AllCommitsAsync()
    {
        var output = await GitAsync(null, null, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname)");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("commit ", StringComparison.Ordinal)).Select(l => l[7..])];
    }

    /// <summary>Lists refs and packs for git's dumb HTTP protocol.</summary>
    public Task<string> UpdateServerInfoAsync() => Locked(() => GitAsync(null, null, "update-server-info"));

    /// <summary>A file's bytes at a commit, or null when it has no such file.</summary>
    public async Task<byte[]?> ReadFileAsync(string commit, string path)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--git-dir=" + GitDirectory, "cat-file", "blob", $"{commit}:{path}" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var bytes = new MemoryStream();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.BaseStream.CopyToAsync(bytes);
        await process.WaitForExitAsync();
        await error;
        return process.ExitCode == 0 ? bytes.ToArray() : null;
    }

    /// <summary>The git mode of a path at a commit ("100755", "120000", …), or null when it has none there.</summary>
    public async Task<string?> ModeAsync(string commit, string path) =>
        (await TryGitAsync(null, null, "ls-tree", "--full-tree", commit, "--", path))?.Split(' ', 2) is [var mode, _] ? mode : null;

    public Task<string> ShowAsync(string revisionAndPath) => GitAsync(null, null, "show", revisionAndPath);

    private async Task<T> Locked<T>(Func<Task<T>> action)
    {
        await _gate.WaitAsync();
        try
        {
            return await action();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> GitAsync(IReadOnlyDictionary<string, string>? env, byte[]? input, params string[] args) =>
        await TryGitAsync(env, input, args) ?? throw new InvalidOperationException($"git {string.Join(' ', args)} failed");

    private async Task<string?> TryGitAsync(IReadOnlyDictionary<string, string>? env, byte[]? input, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("--git-dir=" + GitDirectory);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        if (input is not null)
            await process.StandardInput.BaseStream.WriteAsync(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await error;
        return process.ExitCode == 0 ? await output : null;
    }
}

public sealed record Signature(string Name, string Email, DateTimeOffset Date);

public sealed record CommitInfo(string Sha, string Tree, IReadOnlyList<string> Parents, string Message, Signature Author, Signature Committer);
