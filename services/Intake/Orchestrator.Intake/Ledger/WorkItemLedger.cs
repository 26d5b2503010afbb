using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Intake.Ledger;

/// <summary>Appends to a work item's timeline and moves its status forward. Safe to call again with the same message.</summary>
public sealed class WorkItemLedger(IntakeDbContext db, TimeProvider clock, ILogger<WorkItemLedger> logger)
{
    public async Task RecordAsync(
        Guid workItemId,
        Guid messageId,
        string kind,
        string detail,
        WorkItemStatus? status,
        CancellationToken cancellationToken,
        Action<WorkItem>? update = null)
    {
        var item = await db.WorkItems.FindAsync([workItemId], cancellationToken);
        if (item is null)
        {
            logger.LogWarning("Work item {CorrelationId} is not in the ledger; {Kind} ignored", workItemId, kind);
            return;
        }
        if (await db.Timeline.AnyAsync(e => e.MessageId == messageId, cancellationToken))
            return;

        var now = clock.GetUtcNow().UtcDateTime;
        db.Timeline.Add(new TimelineEntry { WorkItemId = workItemId, MessageId = messageId, Kind = kind, Detail = detail, At = now });
        // Events can arrive out of order (a late progress report after the pull request): a finished item stays finished.
        if (status is { } next && !item.IsFinished && Rank(next) >= Rank(item.Status))
            item.Status = next;
        // A cancelled item keeps recording what still arrives (the run stopping), but nothing changes its status or outcome.
        if (item.Status != WorkItemStatus.Cancelled)
            update?.Invoke(item);
        item.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Work item {CorrelationId}: {Kind}, now {Status}", workItemId, kind, item.Status);
    }

    private static int Rank(WorkItemStatus status) => status switch
    {
        WorkItemStatus.Accepted => 0,
        WorkItemStatus.Planned => 1,
        WorkItemStatus.InProgress => 2,
        _ => 3,
    };
}
