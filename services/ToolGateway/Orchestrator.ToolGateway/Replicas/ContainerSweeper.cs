using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ToolGateway.Client;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Replicas;

/// <summary>
/// Removes the containers and workspace folders of replicas that are gone: a replica that crashes cannot clean up after
/// itself, so the survivors do, by the containers' labels and the folders' owner files. It also removes what an earlier
/// process with this replica's id left behind (the same id restarted), told apart by the process's instance; it never
/// removes anything of this process.
/// </summary>
public sealed class ContainerSweeper(
    DockerCli docker, Replica replica, GatewayReplicas replicas, IOptions<ToolGatewayOptions> options, TimeProvider time,
    ILogger<ContainerSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var started = time.GetUtcNow();
        // Until this replica has been up long enough to have heard every live replica, it sweeps nothing of theirs.
        var grace = 3 * o.HeartbeatInterval + TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(o.SweepInterval, time);
        do
        {
            try
            {
                var others = time.GetUtcNow() - started > grace;
                if (o.Launcher == LauncherKind.Docker)
                    await SweepAsync(others, grace, stoppingToken);
                SweepFolders(others, grace);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Container sweep failed; trying again in {Interval}", o.SweepInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private void SweepFolders(bool others, TimeSpan grace)
    {
        var root = new DirectoryInfo(options.Value.WorkspacesPath);
        if (!root.Exists)
            return;
        var now = time.GetUtcNow();
        foreach (var folder in root.EnumerateDirectories())
        {
            var owner = Path.Combine(folder.FullName, Workspaces.WorkspaceSession.OwnerFileName);
            if (!File.Exists(owner))
                continue;
            var (id, instance) = File.ReadAllText(owner).Split('\n') is [var i, var n, ..] ? (i, n) : ("", "");
            if (!IsOrphan(id, instance, now - folder.CreationTimeUtc, others, grace))
                continue;
            try
            {
                folder.Delete(recursive: true);
                logger.LogInformation("Removed workspace folder {Folder} of replica {Replica}, which is gone", folder.Name, id);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Workspace folder {Folder} of replica {Replica} could not be removed: {Error}", folder.Name, id, e.Message);
            }
        }
    }

    private async Task SweepAsync(bool others, TimeSpan grace, CancellationToken cancellationToken)
    {
        var containers = await docker.ListAsync(
            new Dictionary<string, string> { [ContainerLabels.Deployment] = options.Value.DeploymentName }, cancellationToken);
        var now = time.GetUtcNow();
        var orphans = containers
            .Select(c => (Container: c, Owner: c.Labels.GetValueOrDefault(ContainerLabels.Replica) ?? "",
                Instance: c.Labels.GetValueOrDefault(ContainerLabels.Instance) ?? ""))
            .Where(c => IsOrphan(c.Owner, c.Instance, now - c.Container.Created, others, grace))
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

    /// <summary>
    /// Never this process's; otherwise, once this replica has been up long enough to have heard the live ones, what belongs
    /// to a process that is not heard from (by its instance, or by its replica id for what carries no instance) and is
    /// older than that: a second live process under this replica's id (a mistake, or a rolling restart) keeps its own.
    /// </summary>
    private bool IsOrphan(string owner, string instance, TimeSpan age, bool others, TimeSpan grace) =>
        instance != replica.Instance && others && age > grace
        && !(instance.Length > 0 ? replicas.IsInstanceAlive(instance) : replicas.IsAlive(owner));
}
