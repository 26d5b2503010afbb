using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>The shared-scope servers of this replica, each started on first use and kept for every caller.</summary>
public sealed class SharedServers(IOptions<ToolGatewayOptions> options, McpServerFactory factory) : IAsyncDisposable
{
    private readonly Dictionary<string, McpServer> _servers = options.Value.Servers
        .Where(s => s.Scope == ServerScope.Shared)
        .ToDictionary(s => s.Name, s => factory.Create(s, ServerPlacement.Shared));

    public McpServer? Find(string name) => _servers.GetValueOrDefault(name);

    /// <summary>The shared servers' tools; a server that never ran is started to learn them (one that cannot start has none).</summary>
    public async Task<IReadOnlyList<ToolDescriptor>> DescribeAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_servers.Values.Where(s => s.Tools.Count == 0).Select(s => s.WarmUpAsync(cancellationToken)));
        return [.. _servers.Values.SelectMany(s => s.Tools)];
    }

    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(_servers.Values.Select(s => s.DisposeAsync().AsTask()));
}
