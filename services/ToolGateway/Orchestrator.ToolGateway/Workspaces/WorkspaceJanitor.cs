using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>
/// Closes sessions that nobody has used for WORKSPACE_IDLE_TTL (a requester that died, or gave up, without closing its
/// workspace would otherwise leave its clone and containers here until the replica stops), and those opened for a
/// request that had stopped waiting, once no repeated request has claimed them in time; and removes the sandbox of a
/// workspace grown past WORKSPACE_MAX_BYTES.
/// </summary>
public sealed class WorkspaceJanitor(WorkspaceManager workspaces, IOptions<ToolGatewayOptions> options, TimeProvider time, ILogger<WorkspaceJanitor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ttl = options.Value.WorkspaceIdleTtl;
        var every = TimeSpan.FromTicks(Math.Clamp(ttl.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(5).Ticks));
        using var timer = new PeriodicTimer(every, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = time.GetUtcNow();
            foreach (var session in workspaces.Sessions.Where(s => s.UnclaimedUntil < now))
            {
                logger.LogInformation("Workspace {SessionId} of {CorrelationId} was opened for nobody and never claimed: closing it",
                    session.Id, session.CorrelationId);
                await workspaces.CloseAsync(session.Id);
            }
            // The sandbox writes into the workspace, which no filesystem limit bounds: one that grew too large loses it.
            foreach (var session in workspaces.Sessions.Where(s => s.Sandbox is { Stopped: null }))
            {
                var size = Folders.Size(session.Directory);
                if (size <= options.Value.WorkspaceMaxBytes)
                    continue;
                logger.LogWarning("Workspace {SessionId} of {CorrelationId} holds {Size:N0} bytes, over WORKSPACE_MAX_BYTES: removing its sandbox",
                    session.Id, session.CorrelationId, size);
                await session.Sandbox!.StopAsync($"the workspace grew to {size:N0} bytes, over {options.Value.WorkspaceMaxBytes:N0} (WORKSPACE_MAX_BYTES)");
            }
            foreach (var session in workspaces.Sessions.Where(s => now - s.LastUsed > ttl))
            {
                logger.LogWarning("Workspace {SessionId} of {CorrelationId} unused for {Idle:g} (WORKSPACE_IDLE_TTL): closing it",
                    session.Id, session.CorrelationId, now - session.LastUsed);
                await workspaces.CloseAsync(session.Id);
            }
        }
    }
}
