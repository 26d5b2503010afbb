using ModelContextProtocol.Client;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Sandboxes;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Launchers;

/// <summary>
/// Where a server instance runs: shared by the replica, or in one session's workspace folder (and then for one
/// repository, "owner/name", when the session names it).
/// </summary>
public sealed record ServerPlacement(Guid? SessionId, string? WorkspaceDirectory, string? Repository = null, WorkspaceSandbox? Sandbox = null)
{
    public static ServerPlacement Shared { get; } = new(null, null);

    public static ServerPlacement InWorkspace(Guid sessionId, string directory, string? repository, WorkspaceSandbox? sandbox = null) =>
        new(sessionId, directory, repository, sandbox);
}

/// <summary>
/// How to start one server instance, and (for a container) the name to remove it by. A built-in server has
/// <see cref="InProcess"/> instead of a process to start.
/// </summary>
public sealed record ServerLaunch(StdioClientTransportOptions Transport, string? ContainerName)
{
    public Func<Microsoft.Extensions.Logging.ILoggerFactory, IServerConnection>? InProcess { get; init; }
}

/// <summary>Turns a catalog entry into a runnable server: a hardened container or a plain process.</summary>
public interface IServerLauncher
{
    /// <summary>The workspace folder as servers see it.</summary>
    string WorkspaceRootFor(string workspaceDirectory);

    /// <summary>Makes a fresh workspace usable by the servers (for containers: owned by the user they run as).</summary>
    Task PrepareWorkspaceAsync(string workspaceDirectory, CancellationToken cancellationToken);

    /// <summary>Everything needed to start the server; throws <see cref="ServerStartException"/> when it cannot be.</summary>
    Task<ServerLaunch> PrepareAsync(McpServerDefinition definition, ServerPlacement placement, CancellationToken cancellationToken);

    /// <summary>Makes sure the instance is gone (its transport only closes its end).</summary>
    Task RemoveAsync(ServerLaunch launch);

    /// <summary>Makes sure every instance this replica started is gone.</summary>
    Task RemoveAllAsync(CancellationToken cancellationToken);
}

/// <summary>A server could not be started; the message says why and is safe to show to callers.</summary>
public sealed class ServerStartException(string message, Exception? inner = null) : Exception(message, inner);
