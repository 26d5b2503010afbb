using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.Publisher.Consumers;
using Orchestrator.Publisher.Publications;
using Orchestrator.Testing;

namespace Orchestrator.Publisher.Tests;

public sealed class ChangesProposedConsumerTests
{
    [Fact]
    public async Task A_redelivered_ChangesProposed_announces_the_same_pull_request_and_opens_no_second_one()
    {
        await using var harness = await ConsumerHarness<PublisherDbContext>.StartAsync(
            bus => bus.AddConsumer<ChangesProposedConsumer>(),
            services => services.AddScoped<IPullRequestWriter, DryRunPullRequestWriter>());
        var id = NewId.NextGuid();
        var change = new ChangesProposed(id, "acme/widgets", 7, "main", "abc123", "orchestrator/issue-7",
            [new ChangedFile("a.txt", FileChange.Added, "a")], "Add a", "Add a", "Fixes #7", RunUsage.None);

        await harness.Harness.Bus.Publish(change, TestContext.Current.CancellationToken);
        await harness.Harness.Bus.Publish(change, TestContext.Current.CancellationToken);

        var opened = await harness.Harness.Published.SelectAsync<PullRequestOpened>(TestContext.Current.CancellationToken)
            .Take(2).Select(m => m.Context.Message).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, opened.Count);
        Assert.Equal(opened[0], opened[1]);
        Assert.Equal(1, await harness.QueryAsync(db => db.Publications.CountAsync()));
    }
}
