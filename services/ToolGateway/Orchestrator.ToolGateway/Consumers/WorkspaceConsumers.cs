using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Replicas;
using Orchestrator.ToolGateway.Sandboxes;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Servers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Consumers;

/// <summary>
/// Any replica may open a workspace; the one that does answers with its own address and every tool the session can call
/// (its workspace servers and the replica's shared ones). A request whose requester has already stopped waiting is
/// dropped. An opening outlives its request's deadline by as long again (the request's own timeout): a requester that
/// gave up asks again for the same work item, and that request joins it, or finds it opened; what nobody claims by then
/// is abandoned, or closed.
/// </summary>
public sealed class OpenWorkspaceConsumer(
    WorkspaceManager workspaces, SharedServers shared, Replica replica, TimeProvider time, ILogger<OpenWorkspaceConsumer> logger)
    : IConsumer<OpenWorkspace>
{
    public async Task Consume(ConsumeContext<OpenWorkspace> context)
    {
        var request = context.Message;
        if (context.IsExpired(time))
        {
            logger.LogInformation("Open workspace for {CorrelationId} dropped: its requester stopped waiting at {Deadline}", request.CorrelationId, context.Deadline());
            return;
        }
        using var activity = ToolGatewayTelemetry.Source.Start("open workspace", request.CorrelationId);
        var keepUntil = context.Deadline() is { } deadline && context.SentTime is { } sent
            ? deadline + (deadline - new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)))
            : context.Deadline();
        // The shared servers' tools are learnt beside the opening, not after it.
        var sharedTools = shared.DescribeAsync(context.CancellationToken);
        WorkspaceSession session;
        try
        {
            session = await workspaces.OpenAsync(request, keepUntil, context.CancellationToken);
        }
        catch (OperationCanceledException) when (context.IsExpired(time) && !context.CancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (GitException e)
        {
            // Answered, not retried: the same clone would fail the same way, and the requester can say why.
            if (!context.IsExpired(time))
                await context.RespondAsync(new WorkspaceNotOpened(request.CorrelationId, "clone-failed", e.Message));
            return;
        }
        if (context.IsExpired(time))
        {
            logger.LogInformation("Workspace {SessionId} for {CorrelationId} opened after its requester stopped waiting: kept until {KeepUntil} for a repeated request",
                session.Id, request.CorrelationId, keepUntil);
            session.LeaveUnclaimed(keepUntil ?? time.GetUtcNow());
            return;
        }
        var tools = (await sharedTools).Concat(session.Describe());
        await context.RespondAsync(new WorkspaceOpened(
            request.CorrelationId, session.Id, replica.Address, session.WorkspaceRoot, session.BaseCommit, [.. tools],
            session.Unavailable, session.Guidance));
        session.Claim();
    }
}

/// <summary>
/// Served on the replica's own queue: the session lives here. Changes that cannot be proposed (over the change limits,
/// or unreadable) are answered with <see cref="WorkspaceChangesRefused"/>, never sent.
/// </summary>
public sealed class CollectChangesConsumer(WorkspaceManager workspaces, TimeProvider time, ILogger<CollectChangesConsumer> logger)
    : IConsumer<CollectChanges>
{
    public async Task Consume(ConsumeContext<CollectChanges> context)
    {
        var request = context.Message;
        if (context.IsExpired(time))
            return;
        using var activity = ToolGatewayTelemetry.Source.Start("collect changes", request.CorrelationId);
        if (workspaces.Find(request.SessionId) is not { } session)
        {
            await context.RespondAsync(new WorkspaceChangesRefused(request.CorrelationId, request.SessionId, "session-lost",
                $"No workspace session {request.SessionId} on this replica"));
            return;
        }
        CollectedChanges changes;
        try
        {
            changes = await workspaces.CollectAsync(session, context.CancellationToken);
        }
        catch (GitException e)
        {
            logger.LogWarning("Changes of workspace {SessionId} could not be read: {Error}", session.Id, e.Message);
            await context.RespondAsync(new WorkspaceChangesRefused(request.CorrelationId, session.Id, "changes-unreadable", e.Message));
            return;
        }
        if (changes.Refusal is { } refusal)
        {
            logger.LogWarning("Changes of workspace {SessionId} refused: {Refusal}", session.Id, refusal);
            await context.RespondAsync(new WorkspaceChangesRefused(request.CorrelationId, session.Id, CollectedChanges.TooLargeReason, refusal));
            return;
        }
        await context.RespondAsync(new WorkspaceChanges(request.CorrelationId, session.Id, session.BaseCommit, changes.Files, changes.Diff));
    }
}

/// <summary>Served on the replica's own queue. Closing a session that is already gone is not an error.</summary>
public sealed class CloseWorkspaceConsumer(WorkspaceManager workspaces) : IConsumer<CloseWorkspace>
{
    public async Task Consume(ConsumeContext<CloseWorkspace> context)
    {
        // Served even when its requester has stopped waiting: closing is what it asked for either way.
        using var activity = ToolGatewayTelemetry.Source.Start("close workspace", context.Message.CorrelationId);
        await workspaces.CloseAsync(context.Message.SessionId);
        await context.RespondAsync(new WorkspaceClosed(context.Message.CorrelationId, context.Message.SessionId));
    }
}

/// <summary>
/// Every replica hears how each work item ended and closes whatever workspace it still holds for it: one its requester
/// stopped waiting for, or one opened a second time for a redelivered request after the first was answered. Closing is
/// what the Planner does too; this catches what it cannot know about.
/// </summary>
public sealed class WorkItemEndedConsumer(WorkspaceManager workspaces)
    : IConsumer<PullRequestOpened>, IConsumer<WorkItemFailed>, IConsumer<WorkItemCompleted>, IConsumer<WorkItemCancelled>
{
    public Task Consume(ConsumeContext<PullRequestOpened> context) => workspaces.CloseForAsync(context.Message.CorrelationId);

    public Task Consume(ConsumeContext<WorkItemFailed> context) => workspaces.CloseForAsync(context.Message.CorrelationId);

    public Task Consume(ConsumeContext<WorkItemCompleted> context) => workspaces.CloseForAsync(context.Message.CorrelationId);

    public Task Consume(ConsumeContext<WorkItemCancelled> context) => workspaces.CloseForAsync(context.Message.CorrelationId);
}

/// <summary>
/// Served on the replica's own queue: the test command on the workspace as it is now and on its base commit, each in a
/// fresh sandbox, compared. Whatever stops it from running is answered as an unavailable verification, not thrown.
/// </summary>
public sealed class VerifyWorkspaceConsumer(WorkspaceManager workspaces, Verifier verifier, TimeProvider time) : IConsumer<VerifyWorkspace>
{
    public async Task Consume(ConsumeContext<VerifyWorkspace> context)
    {
        var request = context.Message;
        if (context.IsExpired(time))
            return;
        using var activity = ToolGatewayTelemetry.Source.Start("verify workspace", request.CorrelationId);
        if (workspaces.Find(request.SessionId) is not { } session)
        {
            await context.RespondAsync(new WorkspaceVerified(request.CorrelationId, request.SessionId, new Verification(
                VerificationStatus.Unavailable, null, null, null, [], [], [], TimeSpan.Zero, $"No workspace session {request.SessionId} on this replica")));
            return;
        }
        var verification = await verifier.VerifyAsync(session, context.CancellationToken);
        activity?.SetTag("orchestrator.verification", verification.Status.ToString());
        await context.RespondAsync(new WorkspaceVerified(request.CorrelationId, session.Id, verification));
    }
}
