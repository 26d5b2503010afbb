using Microsoft.Extensions.Logging;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// A workspace's sandbox: its environment read from the base commit and its container started and set up, both begun
/// as the workspace opens, beside the MCP servers, so the agent's first command waits for nothing. Removed with the workspace.
/// </summary>
public sealed class WorkspaceSandbox : IAsyncDisposable
{
    private readonly Task<(Sandbox Sandbox, IReadOnlyList<string> Notes)> _work;
    private readonly ILogger _logger;

    private WorkspaceSandbox(Task<SandboxEnvironment> environment, Task<(Sandbox, IReadOnlyList<string>)> work, string workspaceMount, ILogger logger)
    {
        Environment = environment;
        _work = work;
        WorkspaceMount = workspaceMount;
        _logger = logger;
    }

    public Task<SandboxEnvironment> Environment { get; }

    /// <summary>Where the workspace is inside the sandbox.</summary>
    public string WorkspaceMount { get; }

    public static WorkspaceSandbox Begin(SandboxProvisioner provisioner, BaseCommitFiles files, string workspaceHostPath, string workspaceMount,
        string user, IReadOnlyDictionary<string, string> labels, ILogger logger, CancellationToken cancellationToken)
    {
        var environment = Task.Run(() => provisioner.DescribeAsync(files, cancellationToken), cancellationToken);
        var work = Task.Run(async () => await provisioner.StartAsync(await environment, workspaceHostPath, user, labels, cancellationToken), cancellationToken);
        return new WorkspaceSandbox(environment, work, workspaceMount, logger);
    }

    /// <summary>Why the sandbox was taken away while the workspace is open, or null.</summary>
    public string? Stopped { get; private set; }

    /// <summary>Removes the sandbox for good, for <paramref name="reason"/>: its commands fail from now on, saying it.</summary>
    public async Task StopAsync(string reason)
    {
        if (Stopped is not null)
            return;
        Stopped = reason;
        await DisposeAsync();
    }

    /// <summary>The set-up sandbox; throws <see cref="SandboxException"/> saying why there is none.</summary>
    public async Task<Sandbox> ReadyAsync(CancellationToken cancellationToken)
    {
        if (Stopped is { } reason)
            throw new SandboxException($"The sandbox was removed: {reason}");
        try
        {
            return (await _work.WaitAsync(cancellationToken)).Sandbox;
        }
        catch (SandboxException)
        {
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SandboxException($"The sandbox is not available: {e.Message}", e);
        }
    }

    /// <summary>Waits for it to be ready; returns what the agent should know of its setup, or why there is no sandbox.</summary>
    public async Task<(IReadOnlyList<string> Notes, string? Unavailable)> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            return ((await _work.WaitAsync(cancellationToken)).Notes, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return ([], $"Server sandbox did not start: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // A sandbox still starting is removed once it has (its start is cancelled with the opening, or ends on its own).
            var (sandbox, _) = await _work;
            await sandbox.DisposeAsync();
        }
        catch (Exception e)
        {
            _logger.LogDebug("No sandbox to remove: {Reason}", e.Message);
        }
    }
}
