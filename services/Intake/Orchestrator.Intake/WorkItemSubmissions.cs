using System.Diagnostics;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Intake.GitHub;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

/// <summary>What a new work item is made from, whatever brought it in.</summary>
public sealed record Submission(
    string Repository,
    int? IssueNumber,
    string Title,
    string Body,
    IReadOnlyList<string> Labels,
    string Author,
    string? IssueUrl = null,
    Guid? RetryOf = null);

public enum AcceptOutcome
{
    /// <summary>A new work item was written and announced.</summary>
    Accepted,

    /// <summary>The issue already has a work item under way; that one is returned.</summary>
    AlreadyActive,

    /// <summary>The issue's work item has finished, and only an explicit retry runs it again; that one is returned.</summary>
    AlreadyFinished,
}

public sealed record AcceptResult(AcceptOutcome Outcome, WorkItem Item);

/// <summary>
/// Writes a new work item to the ledger and announces it with <see cref="WorkItemAccepted"/>: at most one active work
/// item per issue, and a finished issue runs again only on a retry.
/// </summary>
public sealed class WorkItemSubmissions(
    IntakeDbContext db,
    IPublishEndpoint publish,
    IOptions<IntakeOptions> options,
    TimeProvider clock,
    ILogger<WorkItemSubmissions> logger)
{
    public async Task<AcceptResult> AcceptAsync(Submission submission, CancellationToken cancellationToken)
    {
        if (submission.IssueNumber is { } number && await LatestForIssueAsync(submission.Repository, number, cancellationToken) is { } latest)
        {
            if (!latest.IsFinished)
                return new AcceptResult(AcceptOutcome.AlreadyActive, latest);
            if (submission.RetryOf is null)
                return new AcceptResult(AcceptOutcome.AlreadyFinished, latest);
        }

        var id = NewId.NextGuid();
        using var activity = IntakeTelemetry.Source.Start("accept work item", id);
        var now = clock.GetUtcNow().UtcDateTime;
        var item = new WorkItem
        {
            Id = id,
            Repository = submission.Repository,
            IssueNumber = submission.IssueNumber,
            IssueUrl = submission.IssueUrl,
            // What the agent reads is what a person sees on the issue: no hidden instructions.
            Title = HiddenText.Strip(submission.Title),
            Body = HiddenText.Strip(submission.Body),
            Labels = [.. submission.Labels],
            Author = submission.Author,
            BaseBranch = options.Value.DefaultBaseBranch,
            Status = WorkItemStatus.Accepted,
            RetryOf = submission.RetryOf,
            TraceId = Activity.Current?.TraceId.ToString(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        var detail = submission.RetryOf is { } retried ? $"by {submission.Author}, retrying {retried}" : $"by {submission.Author}";
        item.Timeline.Add(new TimelineEntry { MessageId = id, Kind = "accepted", Detail = detail, At = now });
        db.WorkItems.Add(item);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (submission.IssueNumber is { } issue)
        {
            // The poller and the webhook raced for the same issue; the unique index let one through.
            db.ChangeTracker.Clear();
            var winner = await LatestForIssueAsync(submission.Repository, issue, cancellationToken);
            return new AcceptResult(AcceptOutcome.AlreadyActive, winner ?? throw new InvalidOperationException("work item vanished"));
        }

        await DispatchAsync(item, cancellationToken);
        logger.LogInformation("Work item {CorrelationId} accepted for {Repository}#{Issue}", id, item.Repository, item.IssueNumber);
        return new AcceptResult(AcceptOutcome.Accepted, item);
    }

    /// <summary>
    /// Announces a saved work item. Saved first, then announced, then marked: if the broker refuses, the dispatcher finds
    /// it unmarked and announces it later. Announcing twice is harmless (every consumer is idempotent by CorrelationId).
    /// </summary>
    public async Task DispatchAsync(WorkItem item, CancellationToken cancellationToken)
    {
        await publish.Publish(new WorkItemAccepted(
            item.Id, item.Repository, item.IssueNumber, item.Title, item.Body, [.. item.Labels], item.Author,
            item.BaseBranch, options.Value.CloneUrl(item.Repository)), cancellationToken);
        item.Dispatched = true;
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task<WorkItem?> LatestForIssueAsync(string repository, int issue, CancellationToken cancellationToken) =>
        db.WorkItems.Where(x => x.Repository == repository && x.IssueNumber == issue)
            .OrderByDescending(x => x.CreatedAt).FirstOrDefaultAsync(cancellationToken);
}
