using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Intake.Api;
using Orchestrator.Intake.Consumers;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

public static class IntakeService
{
    /// <summary>Intake's parts: options, the ledger, the status consumers.</summary>
    public static IHostApplicationBuilder AddIntake(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<IntakeOptions>(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.AddServiceDatabase<IntakeDbContext>("data/intake.db");
        builder.Services.AddScoped<WorkItemLedger>();
        builder.Services.AddScoped<WorkItemSubmissions>();
        builder.AddOrchestratorBus(bus =>
        {
            bus.AddConsumer<WorkItemPlannedConsumer>();
            bus.AddConsumer<WorkItemProgressedConsumer>();
            bus.AddConsumer<WorkItemFailedConsumer>();
            bus.AddConsumer<WorkItemCompletedConsumer>();
            bus.AddConsumer<PullRequestOpenedConsumer>();
        });
        return builder;
    }

    /// <summary>Intake's HTTP surface: the work-item API.</summary>
    public static WebApplication MapIntake(this WebApplication app)
    {
        app.MapWorkItemsApi();
        return app;
    }
}
