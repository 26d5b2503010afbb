using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>A work item's clone on this replica and the workspace-scoped servers running in it.</summary>
public sealed class WorkspaceSession(Guid id, Guid correlationId, string directory, string baseCommit)
{
    private readonly Dictionary<string, McpServerInstance> _servers = [];

    public Guid Id { get; } = id;
    public Guid CorrelationId { get; } = correlationId;
    public string Directory { get; } = directory;
    public string BaseCommit { get; } = baseCommit;
    public IReadOnlyDictionary<string, McpServerInstance> Servers => _servers;

    public void Add(McpServerInstance server) => _servers[server.Name] = server;

    public IEnumerable<ToolDescriptor> Describe() => _servers.Values.SelectMany(s => s.Describe());

    public async Task StopServersAsync()
    {
        foreach (var server in _servers.Values)
            await server.DisposeAsync();
        _servers.Clear();
    }
}
