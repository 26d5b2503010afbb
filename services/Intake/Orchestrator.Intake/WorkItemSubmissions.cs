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

    /// <summary>The repository is not in REPOSITORIES: nothing was written.</summary>
    RepositoryNotAllowed,
}

public sealed record AcceptResult(AcceptOutcome Outcome, WorkItem? Item);

/// <summary>
/// Writes a new work item to the ledger and announces it with <see cref="WorkItemAccepted"/>: only for an allowed
/// repository (whatever brought it in: the API, the webhook, the poller), at most one active work item per issue, and a
/// finished issue runs again only on a retry.
/// </summary>
public sealed class WorkItemSubmissions(
    IntakeDbContext db,
    IPublishEndpoint publish,
    IOptions<IntakeOptions> options,
    IOptions<RepositoryAllowList> repositories,
    TimeProvider clock,
    ILogger<WorkItemSubmissions> logger)
{
    public async Task<AcceptResult> AcceptAsync(Submission submission, CancellationToken cancellationToken)
    {
        if (!repositories.Value.Allows(submission.Repository))
        {
            logger.LogWarning("Work for {Repository} refused: it is not in REPOSITORIES", submission.Repository);
            return new AcceptResult(AcceptOutcome.RepositoryNotAllowed, null);
        }
        if (submission.IssueNumber is { } number && await LatestForIssueAsync(submission.Repository, number, cancellationToken) is { } latest)
        {
            if (!latest.IsFinished)
                return new AcceptResult(AcceptOutcome.AlreadyActive, latest);
            if (submission.RetryOf is null)
                return new AcceptResult(AcceptOutcome.AlreadyFinished, latest);
        }

        // Random (version 4), not sequential: an id cannot be guessed from another.
        var id = Guid.NewGuid();
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

        logger.LogInformation("Work item {CorrelationId} accepted for {Repository}#{Issue}", id, item.Repository, item.IssueNumber);
        await TryDispatchAsync(item, cancellationToken);
        return new AcceptResult(AcceptOutcome.Accepted, item);
    }

    /// <summary>How long an announcement may wait for the broker before it is left to the dispatcher.</summary>
    public static readonly TimeSpan AnnounceTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Announces a saved work item. Saved first, then announced, then marked: if the broker does not take it now, the
    /// dispatcher finds it unmarked and announces it later. Announcing twice is harmless (every consumer is idempotent
    /// by CorrelationId).
    /// </summary>
    /// <returns>Whether the broker took it now.</returns>
    public Task<bool> TryDispatchAsync(WorkItem item, CancellationToken cancellationToken) =>
        TryAnnounceAsync(item, "acceptance", token => publish.Publish(new WorkItemAccepted(
            item.Id, item.Repository, item.IssueNumber, item.Title, item.Body, [.. item.Labels], item.Author,
            item.BaseBranch, options.Value.CloneUrl(item.Repository)), token), () => item.Dispatched = true, cancellationToken);

    /// <summary>Announces a saved cancellation, the same way.</summary>
    public Task<bool> TryDispatchCancelAsync(WorkItem item, CancellationToken cancellationToken) =>
        TryAnnounceAsync(item, "cancellation", token => publish.Publish(new WorkItemCancelled(item.Id, item.CancelledBy ?? "unknown"), token),
            () => item.CancelDispatched = true, cancellationToken);

    private async Task<bool> TryAnnounceAsync(
        WorkItem item, string what, Func<CancellationToken, Task> announce, Action mark, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(AnnounceTimeout);
        try
        {
            await announce(limit.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Work item {CorrelationId}: its {What} is saved but the broker did not take it ({Message}); it is announced when the broker answers",
                item.Id, what, e.Message);
            return false;
        }
        mark();
        await db.SaveChangesAsync(CancellationToken.None);
        return true;
    }

    /// <summary>The issue's latest work item; repository names compare without case, as GitHub's do.</summary>
    public Task<WorkItem?> LatestForIssueAsync(string repository, int issue, CancellationToken cancellationToken) =>
        db.WorkItems.Where(x => x.IssueNumber == issue && x.Repository.ToLower() == repository.ToLowerInvariant())
            .OrderByDescending(x => x.CreatedAt).FirstOrDefaultAsync(cancellationToken);
}
