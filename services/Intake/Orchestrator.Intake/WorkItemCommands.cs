using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Intake.Ledger;

namespace Orchestrator.Intake;

public enum CommandOutcome
{
    Done,
    NotFound,

    /// <summary>Cancel of a finished work item, or retry of one still under way.</summary>
    Conflict,
}

public sealed record CommandResult(CommandOutcome Outcome, WorkItem? Item, string Message);

/// <summary>Cancel and retry, from the API or from an issue comment.</summary>
public sealed class WorkItemCommands(
    IntakeDbContext db, WorkItemSubmissions submissions, TimeProvider clock, ILogger<WorkItemCommands> logger)
{
    public async Task<CommandResult> CancelAsync(Guid id, string by, CancellationToken cancellationToken)
    {
        var item = await db.WorkItems.FindAsync([id], cancellationToken);
        if (item is null)
            return new CommandResult(CommandOutcome.NotFound, null, $"work item {id} does not exist");
        if (item.IsFinished)
            return new CommandResult(CommandOutcome.Conflict, item, $"work item {id} has already finished ({item.Status})");

        // Saved, then announced, then marked, as an acceptance is: a cancel the broker does not take now is announced later.
        var now = clock.GetUtcNow().UtcDateTime;
        item.Status = WorkItemStatus.Cancelled;
        item.CancelledBy = by;
        item.UpdatedAt = now;
        db.Timeline.Add(new TimelineEntry { WorkItemId = id, MessageId = NewId.NextGuid(), Kind = "cancelled", Detail = $"by {by}", At = now });
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Work item {CorrelationId} cancelled by {By}", id, by);
        return await submissions.TryDispatchCancelAsync(item, cancellationToken)
            ? new CommandResult(CommandOutcome.Done, item, $"work item {id} cancelled")
            : new CommandResult(CommandOutcome.Done, item, $"work item {id} cancelled; the run is told as soon as the broker answers");
    }

    /// <summary>Runs a finished work item again as a new work item; <paramref name="fresh"/> carries the issue as it reads now.</summary>
    public async Task<CommandResult> RetryAsync(Guid id, string by, Submission? fresh, CancellationToken cancellationToken)
    {
        var item = await db.WorkItems.FindAsync([id], cancellationToken);
        if (item is null)
            return new CommandResult(CommandOutcome.NotFound, null, $"work item {id} does not exist");
        if (!item.IsFinished)
            return new CommandResult(CommandOutcome.Conflict, item, $"work item {id} is still {item.Status}");

        var submission = (fresh ?? new Submission(item.Repository, item.IssueNumber, item.Title, item.Body, [.. item.Labels], by, item.IssueUrl))
            with { Author = by, RetryOf = id };
        var result = await submissions.AcceptAsync(submission, cancellationToken);
        return result.Outcome switch
        {
            AcceptOutcome.Accepted => new CommandResult(CommandOutcome.Done, result.Item, $"work item {result.Item!.Id} retries {id}"),
            AcceptOutcome.RepositoryNotAllowed => new CommandResult(CommandOutcome.Conflict, item, $"{item.Repository} is no longer in REPOSITORIES"),
            _ => new CommandResult(CommandOutcome.Conflict, result.Item, $"work item {result.Item!.Id} is already under way for this issue"),
        };
    }
}
