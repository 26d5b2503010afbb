using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Consumers;
using Orchestrator.ToolGateway.Servers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway;

public static class ToolGatewayService
{
    /// <summary>
    /// ToolGateway's parts. OpenWorkspace, ListTools and sessionless CallTool are competing consumers on shared queues;
    /// a session's CallTool, CollectChanges and CloseWorkspace go to this replica's own queue.
    /// </summary>
    public static IHostApplicationBuilder AddToolGateway(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ToolGatewayOptions>(builder.Configuration);
        builder.Services.AddSingleton<Replica>();
        builder.Services.AddSingleton<WorkspaceManager>();
        builder.Services.AddSingleton<SharedServers>();
        builder.Services.AddSingleton<ToolInvoker>();
        builder.AddOrchestratorBus(bus =>
        {
            bus.AddConsumer<OpenWorkspaceConsumer>();
            bus.AddConsumer<ListToolsConsumer>();
            bus.AddConsumer<CallToolConsumer>();
            bus.AddConsumer<CollectChangesConsumer>().ExcludeFromConfigureEndpoints();
            bus.AddConsumer<CloseWorkspaceConsumer>().ExcludeFromConfigureEndpoints();
        },
        (context, cfg) =>
        {
            var replica = context.GetRequiredService<Replica>();
            cfg.ReplicaEndpoint(context, replica.QueueName, endpoint =>
            {
                replica.Address = endpoint.InputAddress;
                endpoint.ConfigureConsumer<CallToolConsumer>(context);
                endpoint.ConfigureConsumer<CollectChangesConsumer>(context);
                endpoint.ConfigureConsumer<CloseWorkspaceConsumer>(context);
            });
        });
        return builder;
    }
}
