using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ServiceDefaults;

/// <summary>
/// Lets the service start whether or not the broker answers. The bus starts in the background and keeps reconnecting;
/// this waits up to BUS_START_WAIT (30 s by default) for it to be ready, so that when the broker is there every queue is
/// bound before the service says it has started, and when it is not, the service comes up anyway: its health endpoint
/// answers, /health/ready says not ready until the bus connects, and no restart is needed when the broker comes back.
/// </summary>
public sealed class BusStartup(IBusControl bus, IOptions<BusOptions> options, ILogger<BusStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var wait = options.Value.StartWait;
        if (await bus.WaitForHealthStatus(BusHealthStatus.Healthy, wait) != BusHealthStatus.Healthy)
            logger.LogWarning("The broker is not reachable yet (waited {Wait}); starting anyway, not ready until it is", wait);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
