using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Servers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Replicas;

/// <summary>
/// Leaves nothing running: on stop (after the bus, so no request arrives any more) it closes every session, stops the
/// shared servers and removes any container still labelled with this replica.
/// </summary>
public sealed class GatewayShutdown(WorkspaceManager workspaces, SharedServers shared, IServerLauncher launcher, ILogger<GatewayShutdown> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await workspaces.CloseAllAsync();
        await shared.DisposeAsync();
        try
        {
            await launcher.RemoveAllAsync(cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Containers of this replica could not be listed for removal");
        }
    }
}
