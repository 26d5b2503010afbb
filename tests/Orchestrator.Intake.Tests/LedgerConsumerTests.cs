using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.Intake.Consumers;
using Orchestrator.Intake.Ledger;
using Orchestrator.Testing;

namespace Orchestrator.Intake.Tests;

public sealed class LedgerConsumerTests
{
    private static Task<ConsumerHarness<IntakeDbContext>> StartAsync() =>
        ConsumerHarness<IntakeDbContext>.StartAsync(
            bus =>
            {
                bus.AddConsumer<WorkItemPlannedConsumer>();
                bus.AddConsumer<WorkItemProgressedConsumer>();
                bus.AddConsumer<PullRequestOpenedConsumer>();
            },
            services => services.AddScoped<WorkItemLedger>());

    private static async Task<Guid> SeedAsync(ConsumerHarness<IntakeDbContext> harness)
    {
        var id = NewId.NextGuid();
        await harness.QueryAsync(async db =>
        {
            db.WorkItems.Add(new WorkItem
            {
                Id = id, Repository = "acme/widgets", Title = "t", Body = "b", BaseBranch = "main",
                Status = WorkItemStatus.Accepted, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        return id;
    }

    [Fact]
    public async Task A_status_event_reaches_the_ledger_as_a_timeline_entry_and_status()
    {
        await using var harness = await StartAsync();
        var id = await SeedAsync(harness);

        await harness.Harness.Bus.Publish(new WorkItemPlanned(id, "the plan", ["step"]), TestContext.Current.CancellationToken);
        Assert.True(await harness.Harness.Consumed.Any<WorkItemPlanned>(TestContext.Current.CancellationToken));

        var item = await harness.QueryAsync(db => db.WorkItems.Include(w => w.Timeline).SingleAsync(w => w.Id == id));
        Assert.Equal(WorkItemStatus.Planned, item.Status);
        Assert.Equal(("planned", "the plan"), (item.Timeline.Single().Kind, item.Timeline.Single().Detail));
    }

    [Fact]
    public async Task The_same_message_recorded_twice_adds_one_timeline_entry()
    {
        await using var harness = await StartAsync();
        var id = await SeedAsync(harness);
        var messageId = NewId.NextGuid();

        for (var i = 0; i < 2; i++)
        {
            await harness.InScopeAsync(async services =>
            {
                await services.GetRequiredService<WorkItemLedger>().RecordAsync(id, messageId, "planned", "the plan",
                    WorkItemStatus.Planned, TestContext.Current.CancellationToken);
                return 0;
            });
        }

        Assert.Equal(1, await harness.QueryAsync(db => db.Timeline.CountAsync(e => e.WorkItemId == id)));
    }

    [Fact]
    public async Task A_late_progress_event_does_not_reopen_a_finished_work_item()
    {
        await using var harness = await StartAsync();
        var id = await SeedAsync(harness);

        await harness.Harness.Bus.Publish(new PullRequestOpened(id, "acme/widgets", 7, 12, "https://example.invalid/pull/12", "orchestrator/issue-7"),
            TestContext.Current.CancellationToken);
        Assert.True(await harness.Harness.Consumed.Any<PullRequestOpened>(TestContext.Current.CancellationToken));
        await harness.Harness.Bus.Publish(new WorkItemProgressed(id, "tool", "late"), TestContext.Current.CancellationToken);
        Assert.True(await harness.Harness.Consumed.Any<WorkItemProgressed>(TestContext.Current.CancellationToken));

        var item = await harness.QueryAsync(db => db.WorkItems.Include(w => w.Timeline).SingleAsync(w => w.Id == id));
        Assert.Equal(WorkItemStatus.PullRequestOpened, item.Status);
        Assert.Equal("https://example.invalid/pull/12", item.PullRequestUrl);
        Assert.Equal(["pull-request-opened", "progress"], item.Timeline.OrderBy(e => e.Id).Select(e => e.Kind));
    }
}
