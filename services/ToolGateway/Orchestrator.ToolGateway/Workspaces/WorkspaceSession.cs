using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>A work item's clone on this replica and the workspace-scoped servers working in it.</summary>
public sealed class WorkspaceSession(Guid id, Guid correlationId, string directory, string workspaceRoot, string baseCommit)
{
    private readonly Dictionary<string, McpServer> _servers = [];

    public Guid Id { get; } = id;
    public Guid CorrelationId { get; } = correlationId;

    /// <summary>The clone, as this gateway sees it.</summary>
    public string Directory { get; } = directory;

    /// <summary>The clone, as the servers see it.</summary>
    public string WorkspaceRoot { get; } = workspaceRoot;

    public string BaseCommit { get; } = baseCommit;
    public IReadOnlyDictionary<string, McpServer> Servers => _servers;

    public void Add(McpServer server) => _servers[server.Name] = server;

    /// <summary>Why each of the session's servers that failed to start at open did not: the caller works without their tools.</summary>
    public IReadOnlyList<string> Unavailable { get; set; } = [];

    public IEnumerable<ToolDescriptor> Describe() => _servers.Values.SelectMany(s => s.Tools);

    public async Task StopServersAsync() =>
        await Task.WhenAll(_servers.Values.Select(s => s.DisposeAsync().AsTask()));
}
