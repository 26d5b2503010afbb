using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>The shared-scope servers of this replica, started on first use and kept for every caller.</summary>
public sealed class SharedServers(IOptions<ToolGatewayOptions> options, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly Dictionary<string, Task<McpServerInstance>> _started = [];
    private readonly Lock _lock = new();

    public IEnumerable<McpServerDefinition> Definitions => options.Value.Servers.Where(s => s.Scope == ServerScope.Shared);

    public Task<McpServerInstance> GetAsync(string name)
    {
        lock (_lock)
        {
            if (_started.TryGetValue(name, out var running) && !running.IsFaulted && !running.IsCanceled)
                return running;
            var definition = Definitions.Single(s => s.Name == name);
            return _started[name] = McpServerInstance.StartAsync(definition, null, loggers, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<McpServerInstance>[] started;
        lock (_lock)
            started = [.. _started.Values];
        foreach (var server in started.Where(t => t.IsCompletedSuccessfully))
            await server.Result.DisposeAsync();
    }
}
