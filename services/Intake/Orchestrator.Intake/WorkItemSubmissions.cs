using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Intake.GitHub;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

/// <summary>What a new work item is made from, whatever brought it in.</summary>
public sealed record Submission(string Repository, int? IssueNumber, string Title, string Body, IReadOnlyList<string> Labels, string Author);

/// <summary>Writes a new work item to the ledger and announces it with <see cref="WorkItemAccepted"/>.</summary>
public sealed class WorkItemSubmissions(
    IntakeDbContext db,
    IPublishEndpoint publish,
    IOptions<IntakeOptions> options,
    TimeProvider clock,
    ILogger<WorkItemSubmissions> logger)
{
    public async Task<WorkItem> AcceptAsync(Submission submission, CancellationToken cancellationToken)
    {
        var id = NewId.NextGuid();
        using var activity = IntakeTelemetry.Source.Start("accept work item", id);
        var now = clock.GetUtcNow().UtcDateTime;
        var settings = options.Value;
        var item = new WorkItem
        {
            Id = id,
            Repository = submission.Repository,
            IssueNumber = submission.IssueNumber,
            // What the agent reads is what a person sees on the issue: no hidden instructions.
            Title = HiddenText.Strip(submission.Title),
            Body = HiddenText.Strip(submission.Body),
            BaseBranch = settings.DefaultBaseBranch,
            Status = WorkItemStatus.Accepted,
            TraceId = Activity.Current?.TraceId.ToString(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        item.Timeline.Add(new TimelineEntry { MessageId = id, Kind = "accepted", Detail = $"by {submission.Author}", At = now });
        db.WorkItems.Add(item);
        await db.SaveChangesAsync(cancellationToken);

        await publish.Publish(new WorkItemAccepted(
            id, item.Repository, item.IssueNumber, item.Title, item.Body, submission.Labels, submission.Author,
            item.BaseBranch, settings.CloneUrl(item.Repository)), cancellationToken);
        logger.LogInformation("Work item {CorrelationId} accepted for {Repository}", id, item.Repository);
        return item;
    }
}
