using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;

namespace Orchestrator.Planner;

/// <summary>
/// ToolGateway over request/response. Opening a workspace goes to any replica; everything after it goes to the replica
/// that answered, at the address it gave.
/// </summary>
public sealed class ToolGatewayClient(IClientFactory clients, IOptions<PlannerOptions> options)
{
    public async Task<WorkspaceOpened> OpenWorkspaceAsync(OpenWorkspace request, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<OpenWorkspace>(RequestTimeout.After(ms: Ms(options.Value.WorkspaceRequestTimeout)));
        return (await client.GetResponse<WorkspaceOpened>(request, cancellationToken)).Message;
    }

    /// <summary>Calls a tool; a <see cref="ToolCallFailed"/> is returned, not thrown, so the caller can show it to the model.</summary>
    public async Task<(ToolCallCompleted? Completed, ToolCallFailed? Failed)> CallToolAsync(
        WorkspaceOpened session, string server, string tool, string argumentsJson, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<CallTool>(session.ReplicaAddress, RequestTimeout.After(ms: Ms(options.Value.ToolRequestTimeout)));
        var response = await client.GetResponse<ToolCallCompleted, ToolCallFailed>(
            new CallTool(session.CorrelationId, session.SessionId, server, tool, argumentsJson), cancellationToken);
        if (response.Is(out Response<ToolCallCompleted>? completed))
            return (completed.Message, null);
        return response.Is(out Response<ToolCallFailed>? failed)
            ? (null, failed.Message)
            : throw new InvalidOperationException("ToolGateway answered with neither a result nor a failure");
    }

    public async Task<WorkspaceChanges> CollectChangesAsync(WorkspaceOpened session, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<CollectChanges>(session.ReplicaAddress, RequestTimeout.After(ms: Ms(options.Value.ToolRequestTimeout)));
        return (await client.GetResponse<WorkspaceChanges>(new CollectChanges(session.CorrelationId, session.SessionId), cancellationToken)).Message;
    }

    public async Task CloseWorkspaceAsync(WorkspaceOpened session, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<CloseWorkspace>(session.ReplicaAddress, RequestTimeout.After(ms: Ms(options.Value.ToolRequestTimeout)));
        await client.GetResponse<WorkspaceClosed>(new CloseWorkspace(session.CorrelationId, session.SessionId), cancellationToken);
    }

    private static int Ms(TimeSpan timeout) => (int)timeout.TotalMilliseconds;
}
