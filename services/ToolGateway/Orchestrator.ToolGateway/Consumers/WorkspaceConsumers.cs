using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Replicas;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Servers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Consumers;

/// <summary>
/// Any replica may open a workspace; the one that does answers with its own address and every tool the session can call
/// (its workspace servers and the replica's shared ones).
/// </summary>
public sealed class OpenWorkspaceConsumer(WorkspaceManager workspaces, SharedServers shared, Replica replica) : IConsumer<OpenWorkspace>
{
    public async Task Consume(ConsumeContext<OpenWorkspace> context)
    {
        using var activity = ToolGatewayTelemetry.Source.Start("open workspace", context.Message.CorrelationId);
        var session = await workspaces.OpenAsync(context.Message, context.CancellationToken);
        var tools = (await shared.DescribeAsync(context.CancellationToken)).Concat(session.Describe());
        await context.RespondAsync(new WorkspaceOpened(
            context.Message.CorrelationId, session.Id, replica.Address, session.WorkspaceRoot, session.BaseCommit, [.. tools],
            session.Unavailable));
    }
}

/// <summary>Served on the replica's own queue: the session lives here.</summary>
public sealed class CollectChangesConsumer(WorkspaceManager workspaces) : IConsumer<CollectChanges>
{
    public async Task Consume(ConsumeContext<CollectChanges> context)
    {
        using var activity = ToolGatewayTelemetry.Source.Start("collect changes", context.Message.CorrelationId);
        var session = workspaces.Find(context.Message.SessionId)
            ?? throw new InvalidOperationException($"No workspace session {context.Message.SessionId} on this replica");
        await context.RespondAsync(await workspaces.CollectAsync(session, context.CancellationToken));
    }
}

/// <summary>Served on the replica's own queue. Closing a session that is already gone is not an error.</summary>
public sealed class CloseWorkspaceConsumer(WorkspaceManager workspaces) : IConsumer<CloseWorkspace>
{
    public async Task Consume(ConsumeContext<CloseWorkspace> context)
    {
        using var activity = ToolGatewayTelemetry.Source.Start("close workspace", context.Message.CorrelationId);
        await workspaces.CloseAsync(context.Message.SessionId);
        await context.RespondAsync(new WorkspaceClosed(context.Message.CorrelationId, context.Message.SessionId));
    }
}
