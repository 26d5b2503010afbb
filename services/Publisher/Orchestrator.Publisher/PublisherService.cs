using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orchestrator.GitHub;
using Orchestrator.Publisher.Consumers;
using Orchestrator.Publisher.GitHub;
using Orchestrator.Publisher.Policy;
using Orchestrator.Publisher.Publications;
using Orchestrator.Publisher.Status;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher;

public static class PublisherService
{
    /// <summary>Publisher's parts: options, the publications database, GitHub (or the dry run), the policy, the consumers.</summary>
    public static IHostApplicationBuilder AddPublisher(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<PublisherOptions>(builder.Configuration);
        builder.Services.AddValidatedOptions<ChangeLimits>(builder.Configuration);
        builder.Services.AddGitHub(builder.Configuration);
        builder.Services.AddSingleton<IValidateOptions<PublisherOptions>, CredentialsRequired>();
        builder.AddServiceDatabase<PublisherDbContext>("data/publisher.db");
        builder.Services.AddSingleton<WorkItemLocks>();
        builder.Services.AddSingleton<PublishPolicy>();
        builder.Services.AddSingleton<GitHubForge>();
        builder.Services.AddSingleton<DryRunForge>();
        builder.Services.AddSingleton<IForge>(sp => sp.GetRequiredService<IOptions<PublisherOptions>>().Value.DryRun
            ? sp.GetRequiredService<DryRunForge>() : sp.GetRequiredService<GitHubForge>());
        builder.Services.AddScoped<StatusBoard>();
        builder.AddOrchestratorBus(bus =>
        {
            bus.AddConsumer<WorkItemAcceptedConsumer>();
            bus.AddConsumer<WorkItemPlannedConsumer>();
            bus.AddConsumer<ChangesProposedConsumer>();
            bus.AddConsumer<WorkItemFailedConsumer>();
            bus.AddConsumer<WorkItemCompletedConsumer>();
            bus.AddConsumer<WorkItemCancelledConsumer>();
        });
        return builder;
    }

    /// <summary>Writing to GitHub needs credentials; only a dry run goes without.</summary>
    private sealed class CredentialsRequired(IOptions<GitHubOptions> github) : IValidateOptions<PublisherOptions>
    {
        public ValidateOptionsResult Validate(string? name, PublisherOptions options) =>
            options.DryRun || github.Value.HasCredentials ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("GITHUB_TOKEN (or GITHUB_APP_ID with its private key) is required, unless PUBLISH_DRY_RUN=true");
    }
}
