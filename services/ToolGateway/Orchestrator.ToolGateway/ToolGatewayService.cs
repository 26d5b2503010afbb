using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Client;
using Orchestrator.ToolGateway.Consumers;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Replicas;
using Orchestrator.ToolGateway.Sandboxes;
using Orchestrator.ToolGateway.Servers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway;

public static class ToolGatewayService
{
    /// <summary>
    /// ToolGateway's parts. OpenWorkspace, ListTools and sessionless CallTool are competing consumers on shared queues;
    /// a session's CallTool, ListTools, CollectChanges and CloseWorkspace go to this replica's own queue.
    /// </summary>
    public static IHostApplicationBuilder AddToolGateway(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ToolGatewayOptions>(builder.Configuration);
        services.AddValidatedOptions<ChangeLimits>(builder.Configuration);
        services.AddValidatedOptions<RepositoryAllowList>(builder.Configuration);
        services.AddGatewayReplicas();
        services.AddSingleton<Replica>();
        services.AddSingleton<DockerCli>();
        services.AddSingleton<DockerImages>();
        services.AddHostedService(sp => sp.GetRequiredService<DockerImages>());
        services.AddSingleton<ServerSecrets>();
        services.AddSingleton<IServerLauncher>(sp => sp.GetRequiredService<IOptions<ToolGatewayOptions>>().Value.Launcher == LauncherKind.Docker
            ? ActivatorUtilities.CreateInstance<DockerLauncher>(sp)
            : ActivatorUtilities.CreateInstance<ProcessLauncher>(sp));
        services.AddSingleton<McpServerFactory>();
        services.AddSingleton<SharedServers>();
        services.AddSingleton<ChangeCollector>();
        services.AddValidatedOptions<SandboxOptions>(builder.Configuration);
        services.AddSingleton<SandboxProvisioner>();
        services.AddSingleton<Verifier>();
        services.AddSingleton<WorkspaceManager>();
        services.AddHostedService<WorkspaceJanitor>();
        services.AddSingleton<ToolInvoker>();

        // Hosted services stop in reverse order: this one after the bus (no request arrives while it cleans up)...
        services.AddHostedService<GatewayShutdown>();

        var concurrency = builder.Configuration.GetValue("MAX_CONCURRENT_CALLS", 64);
        builder.AddOrchestratorBus(bus =>
        {
            bus.AddConfigureEndpointsCallback((_, endpoint) => endpoint.ConcurrencyLimit(concurrency));
            bus.AddConsumer<OpenWorkspaceConsumer>();
            bus.AddConsumer<ListToolsConsumer>();
            bus.AddConsumer<CallToolConsumer>();
            bus.AddConsumer<CollectChangesConsumer>().ExcludeFromConfigureEndpoints();
            bus.AddConsumer<CloseWorkspaceConsumer>().ExcludeFromConfigureEndpoints();
            bus.AddConsumer<VerifyWorkspaceConsumer>().ExcludeFromConfigureEndpoints();
            bus.AddGatewayReplicaHeartbeats();
            // Every replica hears how each work item ended (a queue of its own, gone when it stops).
            bus.AddConsumer<WorkItemEndedConsumer>().Endpoint(e =>
            {
                e.Temporary = true;
                e.InstanceId = Guid.NewGuid().ToString("N")[..12];
            });
        },
        (context, cfg) =>
        {
            var replica = context.GetRequiredService<Replica>();
            cfg.ReplicaEndpoint(context, replica.QueueName, endpoint =>
            {
                replica.Address = endpoint.InputAddress;
                endpoint.ConcurrencyLimit(concurrency);
                endpoint.ConfigureConsumer<CallToolConsumer>(context);
                endpoint.ConfigureConsumer<ListToolsConsumer>(context);
                endpoint.ConfigureConsumer<CollectChangesConsumer>(context);
                endpoint.ConfigureConsumer<CloseWorkspaceConsumer>(context);
                endpoint.ConfigureConsumer<VerifyWorkspaceConsumer>(context);
            });
        });

        // ...and these before it: the last heartbeat says "stopping" while the bus can still carry it.
        services.AddHostedService<ContainerSweeper>();
        services.AddHostedService<ReplicaHeartbeat>();
        return builder;
    }

    private static void ConcurrencyLimit(this IReceiveEndpointConfigurator endpoint, int limit)
    {
        endpoint.PrefetchCount = limit;
        endpoint.ConcurrentMessageLimit = limit;
    }
}
