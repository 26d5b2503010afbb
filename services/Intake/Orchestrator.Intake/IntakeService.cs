using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrator.GitHub;
using Orchestrator.Intake.Api;
using Orchestrator.Intake.Consumers;
using Orchestrator.Intake.GitHub;
using Orchestrator.Intake.GitHub.Webhooks;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

public static class IntakeService
{
    /// <summary>Intake's parts: options, GitHub (read only), the ledger, the poller, the status consumers.</summary>
    public static IHostApplicationBuilder AddIntake(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<IntakeOptions>(builder.Configuration);
        builder.Services.AddGitHub(builder.Configuration);
        builder.Services.AddSingleton<IValidateOptions<IntakeOptions>, PollingNeedsCredentials>();
        builder.AddServiceDatabase<IntakeDbContext>("data/intake.db");
        builder.Services.AddScoped<WorkItemLedger>();
        builder.Services.AddScoped<WorkItemSubmissions>();
        builder.Services.AddScoped<WorkItemCommands>();
        builder.Services.AddSingleton<IssuePoller>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IssuePoller>());
        builder.Services.AddHostedService<AcceptanceDispatcher>();
        builder.Services.AddGitHubWebhook();
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

    private sealed class PollingNeedsCredentials(IOptions<GitHubOptions> github, IOptions<RepositoryAllowList> repositories)
        : IValidateOptions<IntakeOptions>
    {
        public ValidateOptionsResult Validate(string? name, IntakeOptions options)
        {
            if (options.PollInterval == TimeSpan.Zero || options.DefaultRepository is null)
                return ValidateOptionsResult.Success;
            if (!github.Value.HasCredentials)
                return ValidateOptionsResult.Fail("polling REPO_OWNER/REPO_NAME needs GITHUB_TOKEN or a GitHub App (GITHUB_APP_ID), or GITHUB_POLL_INTERVAL=0");
            return repositories.Value.Allows(options.DefaultRepository)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("REPO_OWNER/REPO_NAME, which is polled, is not in REPOSITORIES");
        }
    }

    /// <summary>Intake's HTTP surface: the status page, the work-item API, the GitHub webhook.</summary>
    public static WebApplication MapIntake(this WebApplication app)
    {
        app.MapStatusPage();
        app.MapWorkItemsApi();
        app.MapGitHubWebhook();
        return app;
    }
}
