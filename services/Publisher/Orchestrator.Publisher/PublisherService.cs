using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Publisher.Consumers;
using Orchestrator.Publisher.Publications;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher;

public static class PublisherService
{
    /// <summary>Publisher's parts: the publications database, the pull request writer, the consumers.</summary>
    public static IHostApplicationBuilder AddPublisher(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddServiceDatabase<PublisherDbContext>("data/publisher.db");
        builder.Services.AddScoped<IPullRequestWriter, DryRunPullRequestWriter>();
        builder.AddOrchestratorBus(bus => bus.AddConsumer<ChangesProposedConsumer>());
        return builder;
    }
}
