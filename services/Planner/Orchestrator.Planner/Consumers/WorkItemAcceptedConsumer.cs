using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Planner.Runs;

namespace Orchestrator.Planner.Consumers;

/// <summary>Records the run and hands it to the scheduler; a redelivered message finds the run already there.</summary>
public sealed class WorkItemAcceptedConsumer(PlannerDbContext db, RunScheduler scheduler, TimeProvider clock, ILogger<WorkItemAcceptedConsumer> logger)
    : IConsumer<WorkItemAccepted>
{
    public async Task Consume(ConsumeContext<WorkItemAccepted> context)
    {
        var item = context.Message;
        var run = await db.Runs.FindAsync([item.CorrelationId], context.CancellationToken);
        if (run is null)
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
        else if (run.IsFinished)
        {
            logger.LogInformation("Work item {CorrelationId} arrived again; its run is already {Status}", item.CorrelationId, run.Status);
            return;
        }
        scheduler.Enqueue(item.CorrelationId);
    }
}
