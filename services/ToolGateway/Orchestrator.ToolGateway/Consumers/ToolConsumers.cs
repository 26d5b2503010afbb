using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Servers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Consumers;

/// <summary>
/// A tool call. With a session it arrives on the replica's own queue and runs on the session's servers (or this replica's
/// shared ones); without one it arrives on the shared queue and runs on this replica's shared servers.
/// </summary>
public sealed class CallToolConsumer(WorkspaceManager workspaces, SharedServers shared, ToolInvoker invoker, TimeProvider time) : IConsumer<CallTool>
{
    public async Task Consume(ConsumeContext<CallTool> context)
    {
        var call = context.Message;
        // Its caller has stopped waiting: a tool run now would change the workspace behind the caller's back.
        if (context.IsExpired(time))
            return;
        McpServer? server = null;
        if (call.SessionId is { } sessionId)
        {
            var session = workspaces.Find(sessionId);
            if (session is null)
            {
                await context.RespondAsync(new ToolCallFailed(call.CorrelationId, call.Server, call.Tool,
                    ToolFailureReason.SessionLost, $"Session {sessionId} is not open on this replica"));
                return;
            }
            server = session.Servers.GetValueOrDefault(call.Server);
        }
        server ??= shared.Find(call.Server);

        var outcome = await invoker.InvokeAsync(call, server, context.CancellationToken);
        if (outcome.Completed is { } completed)
            await context.RespondAsync(completed);
        else
            await context.RespondAsync(outcome.Failed!);
    }
}

/// <summary>The tools of the shared servers, plus the session's when one is named.</summary>
public sealed class ListToolsConsumer(WorkspaceManager workspaces, SharedServers shared) : IConsumer<ListTools>
{
    public async Task Consume(ConsumeContext<ListTools> context)
    {
        var tools = new List<ToolDescriptor>(await shared.DescribeAsync(context.CancellationToken));
        if (context.Message.SessionId is { } id && workspaces.Find(id) is { } session)
            tools.AddRange(session.Describe());
        await context.RespondAsync(new ToolCatalog(context.Message.CorrelationId, tools));
    }
}
