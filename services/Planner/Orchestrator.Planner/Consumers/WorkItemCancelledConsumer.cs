using System.Text.Json;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Planner.Runs;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner.Consumers;

/// <summary>
/// Marks the work item's run cancelled and stops it if it is running here. Every Planner replica gets the message (on a
/// queue of its own), because only the one running the work item can stop it. A cancel that comes before the work item
/// leaves a cancelled run behind, so a late WorkItemAccepted starts nothing.
/// </summary>
public sealed class WorkItemCancelledConsumer(PlannerDbContext db, RunScheduler scheduler, TimeProvider clock) : IConsumer<WorkItemCancelled>
{
    public async Task Consume(ConsumeContext<WorkItemCancelled> context)
    {
        var id = context.Message.CorrelationId;
        var now = clock.GetUtcNow().UtcDateTime;
        var run = await db.Runs.FindAsync([id], context.CancellationToken);
        if (run is null)
        {
            db.Runs.Add(new Run
            {
                CorrelationId = id,
                Status = RunStatus.Cancelled,
                WorkItemJson = JsonSerializer.Serialize(new { context.Message.CorrelationId }),
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
        else if (!run.IsFinished)
        {
            run.Status = RunStatus.Cancelled;
            run.UpdatedAt = now;
        }
        await db.SaveChangesAsync(context.CancellationToken);
        scheduler.Cancel(id);
    }
}

/// <summary>
/// The replica's own queue for cancels, kept through a broker restart: Intake announces a cancel saved while the broker
/// was down as soon as it is back, which can be before this replica has reconnected.
/// </summary>
public sealed class WorkItemCancelledConsumerDefinition : ConsumerDefinition<WorkItemCancelledConsumer>
{
    public WorkItemCancelledConsumerDefinition() => Endpoint(e => e.InstanceId = Guid.NewGuid().ToString("N")[..12]);

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<WorkItemCancelledConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.OutlivesBrokerRestarts();
}
