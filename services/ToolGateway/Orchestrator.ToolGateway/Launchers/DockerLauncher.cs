using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Replicas;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Launchers;

/// <summary>
/// Runs each server in its own container through the host's Docker engine: <c>docker run -i --rm --init</c>, stdio
/// attached, hardened (no network unless the catalog allows one, read-only root, no capabilities, no privilege
/// escalation, memory/CPU/process limits, non-root), labelled with deployment, replica, session and server so that
/// nothing outlives its owner.
/// </summary>
public sealed class DockerLauncher(
    IOptions<ToolGatewayOptions> options, Replica replica, DockerCli docker, DockerImages images, ServerSecrets secrets,
    ILogger<DockerLauncher> logger) : IServerLauncher
{
    private readonly (int Uid, int Gid) _self = CurrentUser();

    /// <summary>The user servers run as: the configured one when the gateway is root (it hands the workspace over), else the gateway's own.</summary>
    public string ContainerUser => _self.Uid == 0 ? options.Value.ContainerUser : $"{_self.Uid}:{_self.Gid}";

    private string WorkspaceMount => options.Value.ContainerWorkspacePath;

    public string WorkspaceRootFor(string workspaceDirectory) => WorkspaceMount;

    public async Task PrepareWorkspaceAsync(string workspaceDirectory, CancellationToken cancellationToken)
    {
        if (_self.Uid != 0)
            return;
        var start = new ProcessStartInfo("chown") { RedirectStandardError = true };
        foreach (var arg in new[] { "-R", options.Value.ContainerUser, workspaceDirectory })
            start.ArgumentList.Add(arg);
        using var chown = Process.Start(start) ?? throw new InvalidOperationException("chown could not be started");
        var error = await chown.StandardError.ReadToEndAsync(cancellationToken);
        await chown.WaitForExitAsync(cancellationToken);
        if (chown.ExitCode != 0)
            throw new InvalidOperationException($"The workspace could not be handed to {options.Value.ContainerUser}: {error.Trim()}");
    }

    public async Task<ServerLaunch> PrepareAsync(McpServerDefinition definition, ServerPlacement placement, CancellationToken cancellationToken)
    {
        await images.EnsureAsync(definition.Image!, cancellationToken);
        var o = options.Value;
        var name = $"{o.DeploymentName}-{definition.Name}-{Guid.NewGuid().ToString("N")[..12]}";
        List<string> args =
        [
            "run", "--interactive", "--rm", "--init", "--pull", "never",
            "--name", name,
            .. LabelsFor(placement.SessionId, definition.Name).SelectMany(l => new[] { "--label", $"{l.Key}={l.Value}" }),
            "--network", definition.Network,
            "--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,size=64m",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", definition.Limits.Memory, "--memory-swap", definition.Limits.Memory,
            "--cpus", definition.Limits.Cpus, "--pids-limit", definition.Limits.Pids.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--user", ContainerUser,
        ];
        if (placement.WorkspaceDirectory is { } directory && definition.MountWorkspace)
        {
            args.AddRange(["--mount", $"type=bind,source={HostPathOf(directory)},target={WorkspaceMount}", "--workdir", WorkspaceMount]);
            // A tmpfs over it, not a bind mount of it: nothing on the host is resolved, so a .git that has been replaced by
            // a link cannot bring anything else into the container.
            if (definition.WorkspaceGit == WorkspaceGitAccess.Hidden)
                args.AddRange(["--mount", $"type=tmpfs,destination={WorkspaceMount}/.git,tmpfs-size=65536,readonly"]);
        }

        // Values travel in the docker CLI's environment and `-e NAME` copies them into the container's: never an argument.
        var environment = DockerCli.BaseEnvironment();
        foreach (var (variable, value) in definition.Environment.Concat(secrets.For(definition)))
        {
            environment[variable] = value.Replace("{workspace}", WorkspaceMount, StringComparison.Ordinal);
            args.AddRange(["--env", variable]);
        }
        args.Add(definition.Image!);
        args.AddRange(definition.Args.Select(a => a.Replace("{workspace}", WorkspaceMount, StringComparison.Ordinal)));

        logger.LogDebug("Starting {Server} in container {Container}", definition.Name, name);
        return new ServerLaunch(new StdioClientTransportOptions
        {
            Name = definition.Name,
            Command = DockerCli.Executable,
            Arguments = args,
            InheritEnvironmentVariables = false,
            EnvironmentVariables = environment,
            // Disposing waits this long for the CLI to exit; the container is removed by name instead of waited for.
            ShutdownTimeout = TimeSpan.FromMilliseconds(500),
        }, name);
    }

    /// <summary>A folder under WORKSPACES_PATH as the Docker host sees it: the engine resolves bind mounts on the host, not in the gateway.</summary>
    public string HostPathOf(string directory)
    {
        var o = options.Value;
        return Path.Combine(o.HostPathOfWorkspaces, Path.GetRelativePath(Path.GetFullPath(o.WorkspacesPath), directory));
    }

    /// <summary>The labels of every container this replica starts: a sweep finds what a dead replica left by them.</summary>
    public IReadOnlyDictionary<string, string> LabelsFor(Guid? sessionId, string server) => new Dictionary<string, string>
    {
        [ContainerLabels.Deployment] = options.Value.DeploymentName,
        [ContainerLabels.Replica] = replica.Id,
        [ContainerLabels.Instance] = replica.Instance,
        [ContainerLabels.Session] = sessionId?.ToString() ?? ContainerLabels.SharedSession,
        [ContainerLabels.Server] = server,
    };

    public Task RemoveAsync(ServerLaunch launch) =>
        launch.ContainerName is { } name ? docker.RemoveAsync([name]) : Task.CompletedTask;

    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        var mine = await docker.ListAsync(new Dictionary<string, string>
        {
            [ContainerLabels.Deployment] = options.Value.DeploymentName,
            [ContainerLabels.Replica] = replica.Id,
            [ContainerLabels.Instance] = replica.Instance,
        }, cancellationToken);
        await docker.RemoveAsync([.. mine.Select(c => c.Name)], cancellationToken);
    }

    private static (int Uid, int Gid) CurrentUser()
    {
        // Effective ids from /proc (Linux, where the engine runs): "Uid:\treal\teffective\t…".
        static int Effective(string[] status, string key) =>
            int.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2],
                System.Globalization.CultureInfo.InvariantCulture);
        var status = File.ReadAllLines("/proc/self/status");
        return (Effective(status, "Uid:"), Effective(status, "Gid:"));
    }
}

/// <summary>The labels on every container the gateway starts.</summary>
public static class ContainerLabels
{
    public const string Deployment = "org.orchestrator.deployment";
    public const string Replica = "org.orchestrator.replica";
    public const string Instance = "org.orchestrator.instance";
    public const string Session = "org.orchestrator.session";
    public const string Server = "org.orchestrator.server";
    public const string SharedSession = "shared";
}
