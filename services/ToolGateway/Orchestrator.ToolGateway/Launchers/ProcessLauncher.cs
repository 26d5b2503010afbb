using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Launchers;

/// <summary>
/// Runs each server as a plain child process: for machines without Docker. No sandbox beyond the environment: the
/// child gets PATH, its own variables and its own secrets, nothing else of the gateway's.
/// </summary>
public sealed class ProcessLauncher(ServerSecrets secrets, ILogger<ProcessLauncher> logger) : IServerLauncher
{
    public string WorkspaceRootFor(string workspaceDirectory) => workspaceDirectory;

    public Task PrepareWorkspaceAsync(string workspaceDirectory, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<ServerLaunch> PrepareAsync(McpServerDefinition definition, ServerPlacement placement, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string?> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") };
        var workspace = placement.WorkspaceDirectory;
        foreach (var (name, value) in definition.Environment)
            environment[name] = workspace is null ? value : value.Replace("{workspace}", workspace, StringComparison.Ordinal);
        foreach (var (name, value) in secrets.For(definition))
            environment[name] = value;
        logger.LogDebug("Starting {Server} as a process", definition.Name);
        return Task.FromResult(new ServerLaunch(new StdioClientTransportOptions
        {
            Name = definition.Name,
            Command = definition.Command!,
            Arguments = [.. definition.Args.Select(a => workspace is null ? a : a.Replace("{workspace}", workspace, StringComparison.Ordinal))],
            WorkingDirectory = workspace,
            InheritEnvironmentVariables = false,
            EnvironmentVariables = environment,
            ShutdownTimeout = TimeSpan.FromSeconds(1),
        }, null));
    }

    public Task RemoveAsync(ServerLaunch launch) => Task.CompletedTask;

    public Task RemoveAllAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
