using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Catalog;

namespace Orchestrator.ToolGateway;

public enum LauncherKind
{
    /// <summary>Each server in its own hardened container (production).</summary>
    Docker,

    /// <summary>Each server a plain child process (development machines without Docker).</summary>
    Process,
}

public sealed partial class ToolGatewayOptions : IValidatedOptions
{
    /// <summary>Where this gateway creates workspaces (one folder per session).</summary>
    [ConfigurationKeyName("WORKSPACES_PATH")]
    public string WorkspacesPath { get; set; } = "workspaces";

    /// <summary>
    /// The same folder as the Docker host sees it, for bind mounts: when the gateway runs in a container, its
    /// WORKSPACES_PATH is a volume whose host path differs. Defaults to WORKSPACES_PATH.
    /// </summary>
    [ConfigurationKeyName("WORKSPACES_HOST_PATH")]
    public string? WorkspacesHostPath { get; set; }

    /// <summary>Where servers see the session's workspace inside their containers ("{workspace}" in the catalog).</summary>
    [ConfigurationKeyName("WORKSPACE_PATH")]
    public string ContainerWorkspacePath { get; set; } = "/workspace";

    /// <summary>This replica's id: names its own queue and labels its containers. Defaults to the host name and a random suffix.</summary>
    [ConfigurationKeyName("REPLICA_ID")]
    public string? ReplicaId { get; set; }

    /// <summary>Labels every container; replicas only sweep containers of their own deployment.</summary>
    [ConfigurationKeyName("DEPLOYMENT_NAME")]
    public string DeploymentName { get; set; } = "orchestrator";

    [ConfigurationKeyName("MCP_LAUNCHER")]
    public LauncherKind Launcher { get; set; } = LauncherKind.Docker;

    /// <summary>The user servers run as in containers when the gateway runs as root; otherwise the gateway's own user.</summary>
    [ConfigurationKeyName("MCP_CONTAINER_USER")]
    public string ContainerUser { get; set; } = "65534:65534";

    /// <summary>How long one tool call may take; keep it below the caller's request timeout.</summary>
    [ConfigurationKeyName("TOOL_CALL_TIMEOUT")]
    public TimeSpan ToolCallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The most bytes of one message a server may send (a tool's result, above all): a longer one is cut where it is read,
    /// and the caller gets its start with a marker. Well under the broker's message limit.
    /// </summary>
    [ConfigurationKeyName("TOOL_RESULT_MAX_BYTES")]
    public int ToolResultMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>A server with no call for this long is stopped; the next call starts it again.</summary>
    [ConfigurationKeyName("SERVER_IDLE_TIMEOUT")]
    public TimeSpan ServerIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest wait before restarting a server that keeps crashing (the first restart is immediate).</summary>
    [ConfigurationKeyName("SERVER_RESTART_MAX_BACKOFF")]
    public TimeSpan RestartMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many requests this replica works on at once.</summary>
    [ConfigurationKeyName("MAX_CONCURRENT_CALLS")]
    public int MaxConcurrentCalls { get; set; } = 64;

    /// <summary>How often this replica tells the others (and callers) it is alive.</summary>
    [ConfigurationKeyName("REPLICA_HEARTBEAT_INTERVAL")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often containers left by replicas that are gone are looked for and removed.</summary>
    [ConfigurationKeyName("CONTAINER_SWEEP_INTERVAL")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long cloning a workspace's repository may take, all of it.</summary>
    [ConfigurationKeyName("CLONE_TIMEOUT")]
    public TimeSpan CloneTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A clone transferring slower than this many bytes per second for CLONE_LOW_SPEED_TIME is abandoned.</summary>
    [ConfigurationKeyName("CLONE_LOW_SPEED_LIMIT")]
    public int CloneLowSpeedLimit { get; set; } = 1024;

    [ConfigurationKeyName("CLONE_LOW_SPEED_TIME")]
    public TimeSpan CloneLowSpeedTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most disk one workspace's clone may take (the repository and its checked-out files together).</summary>
    [ConfigurationKeyName("CLONE_MAX_BYTES")]
    public long CloneMaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// A read-only token for cloning private repositories (GitHub: a fine-grained token with Contents read on the allowed
    /// repositories). Given to git in its environment as an HTTP header for one URL, only for a clone of an allowed
    /// repository (REPOSITORIES) from GIT_CLONE_BASE_URL; never in an argument, a URL, a .git/config or a container.
    /// </summary>
    [ConfigurationKeyName("GIT_CLONE_TOKEN")]
    public string? CloneToken { get; set; }

    /// <summary>Where repositories are cloned from (as Intake's setting): the only place <see cref="CloneToken"/> is sent.</summary>
    [ConfigurationKeyName("GIT_CLONE_BASE_URL")]
    public string CloneBaseUrl { get; set; } = "https://github.com";

    /// <summary>
    /// The most disk a workspace may take while it is worked in: past it, its sandbox is removed (its commands, the way to
    /// write without bound, fail from then on, saying so). Checked every few seconds, so a burst can go over before it is seen.
    /// </summary>
    [ConfigurationKeyName("WORKSPACE_MAX_BYTES")]
    public long WorkspaceMaxBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>How long collecting a workspace's changes may take.</summary>
    [ConfigurationKeyName("COLLECT_TIMEOUT")]
    public TimeSpan CollectTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>After a failed pull of a catalog image, how long servers of that image fail at once instead of pulling again.</summary>
    [ConfigurationKeyName("IMAGE_PULL_RETRY_AFTER")]
    public TimeSpan ImagePullRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A workspace no request has used for this long is closed (its requester died or gave up without closing it).</summary>
    [ConfigurationKeyName("WORKSPACE_IDLE_TTL")]
    public TimeSpan WorkspaceIdleTtl { get; set; } = TimeSpan.FromMinutes(45);

    [ConfigurationKeyName("MCP_SERVERS")]
    public List<McpServerDefinition> Servers { get; set; } = [];

    public string HostPathOfWorkspaces => Path.GetFullPath(string.IsNullOrWhiteSpace(WorkspacesHostPath) ? WorkspacesPath : WorkspacesHostPath);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(WorkspacesPath))
            yield return "WORKSPACES_PATH must not be empty";
        // Servers started as the gateway's own processes could read its environment, and git's, from /proc.
        if (Launcher == LauncherKind.Process && !string.IsNullOrEmpty(CloneToken))
            yield return "GIT_CLONE_TOKEN needs MCP_LAUNCHER=Docker: servers run as plain processes could read it";
        if (!Setting.IsAbsoluteUri(CloneBaseUrl) && !Path.IsPathFullyQualified(CloneBaseUrl))
            yield return "GIT_CLONE_BASE_URL must be an absolute URL or folder";
        if (!string.IsNullOrWhiteSpace(WorkspacesHostPath) && !Path.IsPathFullyQualified(WorkspacesHostPath))
            yield return "WORKSPACES_HOST_PATH must be an absolute path";
        if (!ContainerWorkspacePath.StartsWith('/') || ContainerWorkspacePath == "/")
            yield return "WORKSPACE_PATH must be an absolute path below /";
        if (!DockerName().IsMatch(DeploymentName))
            yield return "DEPLOYMENT_NAME must be letters, digits, '-', '_' or '.'";
        if (ReplicaId is { Length: > 0 } && !DockerName().IsMatch(ReplicaId))
            yield return "REPLICA_ID must be letters, digits, '-', '_' or '.'";
        foreach (var (name, value) in new[] {
            ("TOOL_CALL_TIMEOUT", ToolCallTimeout), ("SERVER_IDLE_TIMEOUT", ServerIdleTimeout), ("SERVER_RESTART_MAX_BACKOFF", RestartMaxBackoff),
            ("REPLICA_HEARTBEAT_INTERVAL", HeartbeatInterval), ("CONTAINER_SWEEP_INTERVAL", SweepInterval),
            ("CLONE_TIMEOUT", CloneTimeout), ("CLONE_LOW_SPEED_TIME", CloneLowSpeedTime), ("WORKSPACE_IDLE_TTL", WorkspaceIdleTtl),
            ("IMAGE_PULL_RETRY_AFTER", ImagePullRetryAfter), ("COLLECT_TIMEOUT", CollectTimeout) })
        {
            if (value <= TimeSpan.Zero)
                yield return $"{name} must be positive";
        }
        if (ToolResultMaxBytes is < 16 * 1024 or > 32 * 1024 * 1024)
            yield return "TOOL_RESULT_MAX_BYTES must be between 16 KiB and 32 MiB";
        if (CloneLowSpeedLimit < 1)
            yield return "CLONE_LOW_SPEED_LIMIT must be at least 1 (bytes per second)";
        if (CloneLowSpeedTime.TotalSeconds < 1)
            yield return "CLONE_LOW_SPEED_TIME must be at least one second";
        if (CloneMaxBytes < 1)
            yield return "CLONE_MAX_BYTES must be at least 1";
        if (WorkspaceMaxBytes < 1)
            yield return "WORKSPACE_MAX_BYTES must be at least 1";
        if (MaxConcurrentCalls < 1)
            yield return "MAX_CONCURRENT_CALLS must be at least 1";
        if (Servers.Count == 0)
            yield return "MCP_SERVERS lists no server";
        foreach (var (server, i) in Servers.Select((s, i) => (s, i)))
        {
            var at = $"MCP_SERVERS:{i}";
            if (!DockerName().IsMatch(server.Name))
                yield return $"{at}:Name must be letters, digits, '-', '_' or '.'";
            if (server.Builtin is not null && server.Scope != ServerScope.Workspace)
                yield return $"{at}:Builtin servers are Scope Workspace";
            if (server.Builtin is not null)
                continue;
            if (Launcher == LauncherKind.Docker && string.IsNullOrWhiteSpace(server.Image))
                yield return $"{at}:Image is required with MCP_LAUNCHER=Docker";
            if (Launcher == LauncherKind.Process && string.IsNullOrWhiteSpace(server.Command))
                yield return $"{at}:Command is required with MCP_LAUNCHER=Process";
            if (server.OneRepository && server.Scope != ServerScope.Workspace)
                yield return $"{at}:OneRepository needs Scope Workspace (a shared server serves every repository)";
            if (server.Limits.Pids < 1)
                yield return $"{at}:Limits:Pids must be at least 1";
            foreach (var (variable, setting) in server.Secrets)
            {
                if (string.IsNullOrWhiteSpace(variable) || string.IsNullOrWhiteSpace(setting))
                    yield return $"{at}:Secrets needs a variable name and the setting that holds its value";
            }
        }
        foreach (var duplicate in Servers.GroupBy(s => s.Name).Where(g => g.Count() > 1))
            yield return $"MCP_SERVERS names '{duplicate.Key}' more than once";
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex DockerName();
}
