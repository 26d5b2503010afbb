using Orchestrator.ToolGateway.Processes;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>
/// git as the gateway itself runs it: on a repository the gateway owns (never the workspace's own <c>.git</c>, which the
/// agent's tools can change), with the repository named explicitly (no discovery, so no <c>.git</c> that a workspace
/// holds is ever read), no system or global configuration, no hooks, no fsmonitor, no credential helper, no pager, and
/// only the protocols a clone needs. Whatever a sandboxed container writes into the workspace is data to this git,
/// never configuration or code.
/// </summary>
/// <param name="gitDirectory">The repository (<c>GIT_DIR</c>).</param>
/// <param name="workTree">The files to compare with it (<c>GIT_WORK_TREE</c>), when a command needs them.</param>
/// <param name="indexFile">An index of the caller's (<c>GIT_INDEX_FILE</c>).</param>
/// <param name="sealedOff">
/// Git may start no other program: it runs by its full path with <c>PATH</c> and <c>GIT_EXEC_PATH</c> naming nothing, so
/// it cannot start a second git (which git does to look inside a repository nested in the work tree, a submodule, and
/// which would read that repository's configuration) nor any helper. Everything the gateway asks of a workspace is a
/// git builtin, so nothing is lost.
/// </param>
public sealed class Git(string gitDirectory, string? workTree = null, string? indexFile = null, bool sealedOff = false)
{
    private const string Nowhere = "/nonexistent";

    /// <summary>The git the gateway runs, by its full path, found once on the gateway's own PATH.</summary>
    private static readonly Lazy<string> Executable = new(() =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "git")).FirstOrDefault(File.Exists) ?? "git");

    // Settings given on the environment win over every configuration file; these make sure that, whatever a repository's
    // own configuration says, nothing runs and nothing is fetched from elsewhere.
    private static readonly (string Key, string Value)[] Overrides =
    [
        ("core.fsmonitor", "false"),
        ("core.hooksPath", "/dev/null"),
        ("core.pager", "cat"),
        ("core.untrackedCache", "false"),
        ("core.symlinks", "true"),
        ("core.fileMode", "true"),
        ("core.autocrlf", "false"),
        // Larger files are streamed rather than read whole into git's memory.
        ("core.bigFileThreshold", "1m"),
        ("credential.helper", ""),
        ("submodule.recurse", "false"),
        ("diff.ignoreSubmodules", "all"),
        ("status.submoduleSummary", "false"),
        ("gc.auto", "0"),
        ("maintenance.auto", "false"),
        ("protocol.allow", "never"),
        ("protocol.https.allow", "always"),
        ("protocol.http.allow", "always"),
        ("protocol.file.allow", "always"),
    ];

    public string GitDirectory { get; } = gitDirectory;

    /// <summary>The environment every gateway git runs with, and nothing else of the gateway's (no secret, no GIT_* of its own).</summary>
    public static Dictionary<string, string?> Environment(IEnumerable<(string Key, string Value)>? settings = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["PATH"] = System.Environment.GetEnvironmentVariable("PATH"),
            // No home: no ~/.gitconfig, ~/.git-credentials or XDG configuration is read.
            ["HOME"] = "/nonexistent",
            ["LC_ALL"] = "C",
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
            ["GIT_ATTR_NOSYSTEM"] = "1",
            ["GIT_TERMINAL_PROMPT"] = "0",
        };
        var all = Overrides.Concat(settings ?? []).ToList();
        environment["GIT_CONFIG_COUNT"] = all.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var ((key, value), i) in all.Select((s, i) => (s, i)))
        {
            environment[$"GIT_CONFIG_KEY_{i}"] = key;
            environment[$"GIT_CONFIG_VALUE_{i}"] = value;
        }
        return environment;
    }

    /// <summary>Runs git; a non-zero exit is a <see cref="GitException"/> carrying git's own message.</summary>
    public async Task<ChildProcessResult> RunAsync(
        IReadOnlyList<string> args, CancellationToken cancellationToken, byte[]? input = null, int maxOutputBytes = 16 * 1024 * 1024,
        IEnumerable<(string Key, string Value)>? settings = null)
    {
        var environment = Environment(settings);
        environment["GIT_DIR"] = GitDirectory;
        if (workTree is not null)
            environment["GIT_WORK_TREE"] = workTree;
        if (indexFile is not null)
            environment["GIT_INDEX_FILE"] = indexFile;
        if (sealedOff)
            (environment["PATH"], environment["GIT_EXEC_PATH"]) = (Nowhere, Nowhere);
        var result = await ChildProcess.RunAsync(sealedOff ? Executable.Value : "git", args, environment, cancellationToken,
            workingDirectory: workTree ?? GitDirectory, input: input, maxOutputBytes: maxOutputBytes);
        if (result.ExitCode != 0 && !result.OutputCut)
            throw new GitException($"git {args[0]} failed ({result.ExitCode}): {result.Error}");
        return result;
    }

    public async Task<string> TextAsync(CancellationToken cancellationToken, params string[] args) =>
        (await RunAsync(args, cancellationToken)).Text;

    /// <summary>
    /// Clones into a new folder: <paramref name="bare"/> for a repository of the gateway's own, or with a work tree. The
    /// clone copies objects (no hard links: the copy's files can then be handed to another user and changed without
    /// touching the source's). Templates (sample hooks) are not copied.
    /// </summary>
    public static async Task CloneAsync(
        string source, string branch, string destination, bool bare, CancellationToken cancellationToken,
        IEnumerable<(string Key, string Value)>? settings = null)
    {
        List<string> args = ["clone", "--quiet", "--no-hardlinks", "--template=", "--single-branch", "--branch", branch];
        if (bare)
            args.Add("--bare");
        args.AddRange(["--", source, destination]);
        var result = await ChildProcess.RunAsync("git", args, Environment(settings), cancellationToken,
            workingDirectory: Path.GetDirectoryName(destination));
        if (result.ExitCode != 0)
            throw new GitException($"git clone failed ({result.ExitCode}): {result.Error}");
    }
}

public sealed class GitException(string message) : Exception(message);
