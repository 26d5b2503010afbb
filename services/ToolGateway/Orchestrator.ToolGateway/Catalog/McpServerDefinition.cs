namespace Orchestrator.ToolGateway.Catalog;

public enum ServerScope
{
    /// <summary>One instance per replica, shared by every caller (for example GitHub).</summary>
    Shared,

    /// <summary>One instance per workspace session, working in that workspace (for example filesystem, git).</summary>
    Workspace,
}

/// <summary>
/// One MCP server of the catalog (MCP_SERVERS). The Docker launcher runs <see cref="Image"/>, the process launcher runs
/// <see cref="Command"/>; both pass <see cref="Args"/>, where "{workspace}" stands for the session's workspace as the
/// server sees it (/workspace in a container, the folder itself for a process).
/// </summary>
public sealed class McpServerDefinition
{
    public string Name { get; set; } = "";
    public ServerScope Scope { get; set; } = ServerScope.Workspace;

    /// <summary>A server the gateway itself provides (no image, no command): <see cref="BuiltinServer.Sandbox"/>.</summary>
    public BuiltinServer? Builtin { get; set; }
    public string? Image { get; set; }
    public string? Command { get; set; }
    public List<string> Args { get; set; } = [];

    /// <summary>Docker network: "none" (the default) cuts the server off; a server that needs the internet names one ("bridge").</summary>
    public string Network { get; set; } = "none";

    /// <summary>Plain environment variables for the server.</summary>
    public Dictionary<string, string> Environment { get; set; } = [];

    /// <summary>
    /// Secrets the server receives: its environment variable name → the gateway setting holding the value, for example
    /// GITHUB_PERSONAL_ACCESS_TOKEN → GITHUB_TOKEN. The value reaches only this server's environment, never an argument.
    /// </summary>
    public Dictionary<string, string> Secrets { get; set; } = [];

    public ServerLimits Limits { get; set; } = new();

    /// <summary>
    /// What a workspace server sees of the workspace's <c>.git</c> (Docker launcher): by default an empty, read-only
    /// folder, so nothing it writes can become git configuration, a hook or a filter that a git elsewhere would run. Only
    /// the git server, which works in that repository, is given it.
    /// </summary>
    public WorkspaceGitAccess WorkspaceGit { get; set; } = WorkspaceGitAccess.Hidden;

    /// <summary>Whether a workspace server gets the workspace mounted (Docker launcher): one that works on GitHub, not on files, does not.</summary>
    public bool MountWorkspace { get; set; } = true;

    public ToolFilter Tools { get; set; } = new();

    /// <summary>
    /// Hold the server to the work item's repository (workspace scope only): only its tools that take <c>owner</c> and
    /// <c>repo</c> are offered, and a call naming any other repository is denied. For servers that can reach more than
    /// the one repository (the GitHub server), on top of a token that can read only that repository.
    /// </summary>
    public bool OneRepository { get; set; }

    /// <summary>Whether a tool's input schema lets the gateway see which repository a call reaches (see <see cref="OneRepository"/>).</summary>
    public static bool NamesRepository(System.Text.Json.JsonElement schema) =>
        schema.ValueKind == System.Text.Json.JsonValueKind.Object && schema.TryGetProperty("properties", out var properties)
        && properties.ValueKind == System.Text.Json.JsonValueKind.Object && properties.TryGetProperty("owner", out _) && properties.TryGetProperty("repo", out _);
}

public enum BuiltinServer
{
    /// <summary>run_command and run_tests in the workspace's sandbox, built from the repository's devcontainer.json (Docker launcher only).</summary>
    Sandbox,
}

public enum WorkspaceGitAccess
{
    /// <summary>An empty read-only folder stands in for <c>.git</c>.</summary>
    Hidden,

    /// <summary>The workspace's repository, read and write (the git server).</summary>
    Writable,
}

/// <summary>A container's resource limits, in docker run's units.</summary>
public sealed class ServerLimits
{
    public string Memory { get; set; } = "512m";
    public string Cpus { get; set; } = "1";
    public int Pids { get; set; } = 256;
}

/// <summary>
/// Which of a server's tools callers may see and call. Names match exactly or, ending in '*', by prefix. An empty
/// allow list allows every tool; the deny list wins over it.
/// </summary>
public sealed class ToolFilter
{
    public List<string> Allow { get; set; } = [];
    public List<string> Deny { get; set; } = [];

    public bool Permits(string tool) =>
        (Allow.Count == 0 || Allow.Any(p => Matches(p, tool))) && !Deny.Any(p => Matches(p, tool));

    private static bool Matches(string pattern, string tool) =>
        pattern.EndsWith('*') ? tool.StartsWith(pattern[..^1], StringComparison.Ordinal) : pattern == tool;
}
