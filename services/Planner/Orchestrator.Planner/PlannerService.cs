using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrator.Planner.Api;
using Orchestrator.Planner.Consumers;
using Orchestrator.Planner.Llm;
using Orchestrator.Planner.Runs;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.Planner;

public static class PlannerService
{
    /// <summary>Planner's parts: options, the LLM client, the runs database, the scheduler, the gateway client.</summary>
    public static IHostApplicationBuilder AddPlanner(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<PlannerOptions>(builder.Configuration);
        builder.Services.AddSingleton<IValidateOptions<PlannerOptions>, CostBudgetNeedsAPrice>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddLlm(builder.Configuration);
        builder.AddServiceDatabase<PlannerDbContext>("data/planner.db");
        builder.Services.AddSingleton<RunScheduler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<RunScheduler>());
        builder.Services.AddToolGatewayClient(builder.Configuration);
        builder.Services.AddScoped<Transcript>();
        builder.Services.AddScoped<WorkItemRunner>();
        builder.AddOrchestratorBus(bus =>
        {
            bus.AddConsumer<WorkItemAcceptedConsumer>();
            // Each replica hears every cancel (only the one running the work item can stop it), on a queue of its own that
            // keeps a cancel published while the broker restarts (WorkItemCancelledConsumerDefinition).
            bus.AddConsumer<WorkItemCancelledConsumer>(typeof(WorkItemCancelledConsumerDefinition));
            bus.AddGatewayReplicaHeartbeats();
        });
        return builder;
    }

    /// <summary>Planner's HTTP surface: the runs and their transcripts.</summary>
    public static WebApplication MapPlanner(this WebApplication app)
    {
        app.MapRunsApi();
        return app;
    }

    private sealed class CostBudgetNeedsAPrice(IOptions<LlmOptions> llm) : IValidateOptions<PlannerOptions>
    {
        public ValidateOptionsResult Validate(string? name, PlannerOptions options) =>
            options.MaxCost == 0 || llm.Value.PriceTable.For(llm.Value.Model) is not null
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    $"PLANNER_MAX_COST needs a price for OPENAI_MODEL {llm.Value.Model}: add it to LLM_PRICES (model=input/output per million tokens), or set PLANNER_MAX_COST=0");
    }
}
