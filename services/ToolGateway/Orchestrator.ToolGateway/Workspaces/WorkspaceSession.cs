using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Sandboxes;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>
/// A work item's workspace on this replica and the workspace-scoped servers working in it. Its folder holds two things:
/// <see cref="Directory"/>, the clone the servers see and change, and <see cref="GitDirectory"/>, the gateway's own copy
/// of the repository, which no container ever mounts: the gateway's git works there and only reads the workspace's files.
/// </summary>
public sealed class WorkspaceSession(Guid id, Guid correlationId, string folder, string workspaceRoot, string baseCommit, string? repository)
{
    public const string WorkspaceFolderName = "workspace";
    public const string GitFolderName = "git";

    /// <summary>In the session's folder (out of every container's reach): the replica and process that made it.</summary>
    public const string OwnerFileName = "owner";

    private readonly Dictionary<string, McpServer> _servers = [];
    private long _lastUsedTicks = DateTimeOffset.UtcNow.UtcTicks;

    public Guid Id { get; } = id;
    public Guid CorrelationId { get; } = correlationId;

    /// <summary>The session's folder on this gateway: the workspace, the gateway's repository, and scratch files.</summary>
    public string Folder { get; } = folder;

    /// <summary>The clone, as this gateway sees it.</summary>
    public string Directory => Path.Combine(Folder, WorkspaceFolderName);

    /// <summary>The gateway's own bare repository of the clone (never mounted into a container).</summary>
    public string GitDirectory => Path.Combine(Folder, GitFolderName);

    /// <summary>The clone, as the servers see it.</summary>
    public string WorkspaceRoot { get; } = workspaceRoot;

    public string BaseCommit { get; } = baseCommit;

    /// <summary>"owner/name" of the work item's repository, when the opener named it.</summary>
    public string? Repository { get; } = repository;

    public IReadOnlyDictionary<string, McpServer> Servers => _servers;

    /// <summary>When a request last came for this session: one nobody has used for the session TTL is closed.</summary>
    public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref _lastUsedTicks, now.UtcTicks);

    private readonly Lock _claim = new();
    private bool _claimed;

    /// <summary>
    /// Opened after every request for it had stopped waiting: kept until then for the request its requester sends again
    /// (with the same work item), and closed after (<see cref="WorkspaceJanitor"/>).
    /// </summary>
    public DateTimeOffset? UnclaimedUntil { get; private set; }

    /// <summary>Its opening was answered: the requester has it.</summary>
    public void Claim()
    {
        lock (_claim)
            (_claimed, UnclaimedUntil) = (true, null);
    }

    public void LeaveUnclaimed(DateTimeOffset until)
    {
        lock (_claim)
        {
            if (!_claimed)
                UnclaimedUntil = UnclaimedUntil is { } earlier && earlier > until ? earlier : until;
        }
    }

    public void Add(McpServer server) => _servers[server.Name] = server;

    /// <summary>Why each of the session's servers that failed to start at open did not: the caller works without their tools.</summary>
    public IReadOnlyList<string> Unavailable { get; set; } = [];

    public IEnumerable<ToolDescriptor> Describe() => _servers.Values.SelectMany(s => s.Tools);

    /// <summary>The workspace's sandbox, when the catalog has the sandbox server (and containers are used).</summary>
    public WorkspaceSandbox? Sandbox { get; set; }

    /// <summary>What the repository's base commit says about working in it, for the agent.</summary>
    public RepositoryGuidance? Guidance { get; set; }

    public async Task StopServersAsync()
    {
        await Task.WhenAll(_servers.Values.Select(s => s.DisposeAsync().AsTask()));
        if (Sandbox is not null)
            await Sandbox.DisposeAsync();
    }
}
