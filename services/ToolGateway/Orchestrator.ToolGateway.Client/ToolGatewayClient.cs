using MassTransit;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;

namespace Orchestrator.ToolGateway.Client;

/// <summary>
/// ToolGateway over request/response. Opening a workspace goes to any replica; everything after it goes to the replica
/// that answered, at the address it gave. When that replica is lost (it stopped, or its heartbeats stopped) a session
/// request fails at once with <see cref="ToolFailureReason.SessionLost"/>, in flight or not, instead of waiting out its timeout.
/// </summary>
public sealed class ToolGatewayClient(IClientFactory clients, GatewayReplicas replicas, IOptions<ToolGatewayClientOptions> options)
{
    /// <summary>Opens a workspace; throws <see cref="WorkspaceNotOpenedException"/> when the gateway says it cannot be opened.</summary>
    public async Task<WorkspaceOpened> OpenWorkspaceAsync(OpenWorkspace request, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<OpenWorkspace>(RequestTimeout.After(ms: Ms(options.Value.WorkspaceRequestTimeout)));
        var response = await client.GetResponse<WorkspaceOpened, WorkspaceNotOpened>(request, cancellationToken);
        if (response.Is(out Response<WorkspaceNotOpened>? refused))
            throw new WorkspaceNotOpenedException(refused.Message.Reason, refused.Message.Detail);
        var opened = response.Is(out Response<WorkspaceOpened>? o) ? o.Message
            : throw new InvalidOperationException("ToolGateway answered with neither a workspace nor a refusal");
        replicas.Answered(opened.ReplicaAddress);
        return opened;
    }

    /// <summary>The shared servers' tools, from any replica.</summary>
    public async Task<ToolCatalog> ListToolsAsync(Guid correlationId, CancellationToken cancellationToken)
    {
        var client = clients.CreateRequestClient<ListTools>(RequestTimeout.After(ms: Ms(options.Value.ToolRequestTimeout)));
        return (await client.GetResponse<ToolCatalog>(new ListTools(correlationId, null), cancellationToken)).Message;
    }

    /// <summary>Every tool the session can call, as its servers list them now (a server may have announced new ones).</summary>
    public async Task<ToolCatalog> ListToolsAsync(WorkspaceOpened session, CancellationToken cancellationToken) =>
        (await SessionRequestAsync<ListTools, Response<ToolCatalog>>(session, cancellationToken, (client, ct) =>
            client.GetResponse<ToolCatalog>(new ListTools(session.CorrelationId, session.SessionId), ct))).Message;

    /// <summary>Calls a tool; a <see cref="ToolCallFailed"/> is returned, not thrown, so the caller can show it to the model.</summary>
    public async Task<(ToolCallCompleted? Completed, ToolCallFailed? Failed)> CallToolAsync(
        WorkspaceOpened session, string server, string tool, string argumentsJson, CancellationToken cancellationToken)
    {
        try
        {
            var response = await SessionRequestAsync<CallTool, Response<ToolCallCompleted, ToolCallFailed>>(session, cancellationToken, (client, ct) =>
                client.GetResponse<ToolCallCompleted, ToolCallFailed>(
                    new CallTool(session.CorrelationId, session.SessionId, server, tool, argumentsJson), ct));
            if (response.Is(out Response<ToolCallCompleted>? completed))
                return (completed.Message, null);
            return response.Is(out Response<ToolCallFailed>? failed)
                ? (null, failed.Message)
                : throw new InvalidOperationException("ToolGateway answered with neither a result nor a failure");
        }
        catch (SessionLostException e)
        {
            return (null, new ToolCallFailed(session.CorrelationId, server, tool, ToolFailureReason.SessionLost, e.Message));
        }
    }

    /// <summary>
    /// The session's changes. Throws <see cref="SessionLostException"/> when its replica (or the session on it) is gone,
    /// and <see cref="ChangesRefusedException"/> when the changes cannot be proposed (over the change limits, say).
    /// </summary>
    public async Task<WorkspaceChanges> CollectChangesAsync(WorkspaceOpened session, CancellationToken cancellationToken)
    {
        var response = await SessionRequestAsync<CollectChanges, Response<WorkspaceChanges, WorkspaceChangesRefused>>(session, cancellationToken, (client, ct) =>
            client.GetResponse<WorkspaceChanges, WorkspaceChangesRefused>(new CollectChanges(session.CorrelationId, session.SessionId), ct));
        if (response.Is(out Response<WorkspaceChanges>? changes))
            return changes.Message;
        var refused = response.Is(out Response<WorkspaceChangesRefused>? r) ? r.Message
            : throw new InvalidOperationException("ToolGateway answered with neither changes nor a refusal");
        throw refused.Reason == "session-lost" ? new SessionLostException(session) : new ChangesRefusedException(refused.Reason, refused.Detail);
    }

    /// <summary>
    /// The repository's tests on the session's workspace against its base commit. Throws <see cref="SessionLostException"/>
    /// when the replica (or the session on it) is gone; anything else that stops the tests is in the answer.
    /// </summary>
    public async Task<Verification> VerifyAsync(WorkspaceOpened session, CancellationToken cancellationToken)
    {
        var response = await SessionRequestAsync<VerifyWorkspace, Response<WorkspaceVerified>>(session, cancellationToken, (client, ct) =>
            client.GetResponse<WorkspaceVerified>(new VerifyWorkspace(session.CorrelationId, session.SessionId), ct), options.Value.VerifyRequestTimeout);
        return response.Message.Verification;
    }

    /// <summary>Closes the session. A session whose replica is gone is closed already: its containers are swept.</summary>
    public async Task CloseWorkspaceAsync(WorkspaceOpened session, CancellationToken cancellationToken)
    {
        try
        {
            await SessionRequestAsync<CloseWorkspace, Response<WorkspaceClosed>>(session, cancellationToken, (client, ct) =>
                client.GetResponse<WorkspaceClosed>(new CloseWorkspace(session.CorrelationId, session.SessionId), ct));
        }
        catch (SessionLostException)
        {
        }
    }

    private async Task<TResponse> SessionRequestAsync<TRequest, TResponse>(
        WorkspaceOpened session, CancellationToken cancellationToken, Func<IRequestClient<TRequest>, CancellationToken, Task<TResponse>> send,
        TimeSpan? timeout = null)
        where TRequest : class
    {
        var lost = replicas.LostToken(session.ReplicaAddress);
        if (lost.IsCancellationRequested)
            throw new SessionLostException(session);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lost);
        var client = clients.CreateRequestClient<TRequest>(session.ReplicaAddress, RequestTimeout.After(ms: Ms(timeout ?? options.Value.ToolRequestTimeout)));
        try
        {
            return await send(client, linked.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or RequestCanceledException && lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SessionLostException(session);
        }
    }

    private static int Ms(TimeSpan timeout) => (int)timeout.TotalMilliseconds;
}

/// <summary>The workspace cannot be opened (its repository could not be cloned); <see cref="Reason"/> is short and machine-readable.</summary>
public sealed class WorkspaceNotOpenedException(string reason, string detail) : Exception(detail)
{
    public string Reason { get; } = reason;
}

/// <summary>The workspace's changes cannot be proposed; <see cref="Reason"/> is short and machine-readable.</summary>
public sealed class ChangesRefusedException(string reason, string detail) : Exception(detail)
{
    public string Reason { get; } = reason;
}

/// <summary>The replica that held the session is gone, and the session with it.</summary>
public sealed class SessionLostException(WorkspaceOpened session)
    : Exception($"Session {session.SessionId} is lost: the ToolGateway replica at {session.ReplicaAddress} stopped answering");
