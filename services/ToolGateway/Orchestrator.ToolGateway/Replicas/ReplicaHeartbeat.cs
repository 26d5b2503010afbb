using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;

namespace Orchestrator.ToolGateway.Replicas;

/// <summary>Tells callers and the other replicas that this replica is alive, and, when it stops, that it is going.</summary>
public sealed class ReplicaHeartbeat(IBus bus, Replica replica, IOptions<ToolGatewayOptions> options, TimeProvider time, ILogger<ReplicaHeartbeat> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeartbeatInterval;
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await bus.Publish(new GatewayReplicaHeartbeat(replica.Id, replica.Address, interval, Stopping: false, replica.Instance), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Heartbeat of replica {Replica} not sent", replica.Id);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await bus.Publish(new GatewayReplicaHeartbeat(replica.Id, replica.Address, options.Value.HeartbeatInterval, Stopping: true, replica.Instance), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Replica {Replica} could not announce that it is stopping", replica.Id);
        }
    }
}
