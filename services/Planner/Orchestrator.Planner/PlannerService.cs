using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Planner.Consumers;
using Orchestrator.Planner.Runs;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.Planner;

public static class PlannerService
{
    /// <summary>Planner's parts: options, the runs database, the scheduler, the gateway client.</summary>
    public static IHostApplicationBuilder AddPlanner(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<PlannerOptions>(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddServiceDatabase<PlannerDbContext>("data/planner.db");
        builder.Services.AddSingleton<RunScheduler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RunScheduler>());
        builder.Services.AddToolGatewayClient(builder.Configuration);
        builder.Services.AddScoped<WorkItemRunner>();
        builder.AddOrchestratorBus(bus =>
        {
            bus.AddConsumer<WorkItemAcceptedConsumer>();
            bus.AddGatewayReplicaHeartbeats();
        });
        return builder;
    }
}
