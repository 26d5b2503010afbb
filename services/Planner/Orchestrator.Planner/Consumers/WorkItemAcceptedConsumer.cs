using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Planner.Runs;

namespace Orchestrator.Planner.Consumers;

/// <summary>Records the run and hands it to the scheduler; a redelivered message finds the run already there.</summary>
public sealed class WorkItemAcceptedConsumer(PlannerDbContext db, RunScheduler scheduler, TimeProvider clock) : IConsumer<WorkItemAccepted>
{
    public async Task Consume(ConsumeContext<WorkItemAccepted> context)
    {
        var item = context.Message;
        if (await db.Runs.FindAsync([item.CorrelationId], context.CancellationToken) is null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            db.Runs.Add(new Run
            {
                CorrelationId = item.CorrelationId,
                Status = RunStatus.Pending,
                WorkItemJson = JsonSerializer.Serialize(item),
                TraceParent = Activity.Current?.Id,
                CreatedAt = now,
                UpdatedAt = now,
            });
            await db.SaveChangesAsync(context.CancellationToken);
        }
        scheduler.Enqueue(item.CorrelationId);
    }
}
