using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ToolGateway.Client;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Replicas;

/// <summary>
/// Removes the containers of replicas that are gone: a replica that crashes cannot clean up after itself, so the
/// survivors do, by label. It also removes what an earlier process with this replica's id left behind (the same id
/// restarted), told apart by the process's instance label; it never removes a container of this process.
/// </summary>
public sealed class ContainerSweeper(
    DockerCli docker, Replica replica, GatewayReplicas replicas, IOptions<ToolGatewayOptions> options, TimeProvider time,
    ILogger<ContainerSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (o.Launcher != LauncherKind.Docker)
            return;
        var started = time.GetUtcNow();
        // Until this replica has been up long enough to have heard every live replica, it sweeps nothing of theirs.
        var grace = 3 * o.HeartbeatInterval + TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(o.SweepInterval, time);
        do
        {
            try
            {
                await SweepAsync(time.GetUtcNow() - started > grace, grace, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Container sweep failed; trying again in {Interval}", o.SweepInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task SweepAsync(bool others, TimeSpan grace, CancellationToken cancellationToken)
    {
        var containers = await docker.ListAsync(
            new Dictionary<string, string> { [ContainerLabels.Deployment] = options.Value.DeploymentName }, cancellationToken);
        var now = time.GetUtcNow();
        var orphans = containers
            .Select(c => (Container: c, Owner: c.Labels.GetValueOrDefault(ContainerLabels.Replica) ?? "",
                Instance: c.Labels.GetValueOrDefault(ContainerLabels.Instance) ?? ""))
            .Where(c => c.Owner == replica.Id
                ? c.Instance != replica.Instance
                : others && !replicas.IsAlive(c.Owner) && now - c.Container.Created > grace)
            .ToList();
        if (orphans.Count == 0)
            return;
        await docker.RemoveAsync([.. orphans.Select(o => o.Container.Name)], cancellationToken);
        foreach (var owner in orphans.GroupBy(o => o.Owner))
        {
            if (owner.Key == replica.Id)
                logger.LogInformation("Removed {Count} containers an earlier process of replica {Replica} left", owner.Count(), owner.Key);
            else
                logger.LogInformation("Removed {Count} containers of replica {Replica}, which is gone", owner.Count(), owner.Key);
        }
    }
}
