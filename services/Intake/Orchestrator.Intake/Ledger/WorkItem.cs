namespace Orchestrator.Intake.Ledger;

public enum WorkItemStatus
{
    Accepted,
    Planned,
    InProgress,
    PullRequestOpened,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>One work item in the ledger. Its id is the CorrelationId every message about it carries.</summary>
public sealed class WorkItem
{
    public Guid Id { get; set; }
    public required string Repository { get; set; }
    public int? IssueNumber { get; set; }
    public string? IssueUrl { get; set; }
    public required string Title { get; set; }
    public required string Body { get; set; }
    public IList<string> Labels { get; set; } = [];
    public string Author { get; set; } = "";
    public required string BaseBranch { get; set; }
    public WorkItemStatus Status { get; set; }
    public string? PullRequestUrl { get; set; }
    public string? TraceId { get; set; }

    /// <summary>Whether <c>WorkItemAccepted</c> reached the broker; the dispatcher re-sends it for an item saved but not announced.</summary>
    public bool Dispatched { get; set; }

    /// <summary>Who cancelled it, once cancelled.</summary>
    public string? CancelledBy { get; set; }

    /// <summary>
    /// Whether <c>WorkItemCancelled</c> reached the broker; the dispatcher re-sends it for an item cancelled but not
    /// announced, so that a cancel made while the broker is down still stops the run.
    /// </summary>
    public bool CancelDispatched { get; set; }

    /// <summary>The work item this one retries, if any.</summary>
    public Guid? RetryOf { get; set; }

    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public decimal Cost { get; set; }
    public TimeSpan Duration { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<TimelineEntry> Timeline { get; set; } = [];

    public bool IsFinished => IsFinishedStatus(Status);

    public static bool IsFinishedStatus(WorkItemStatus status) =>
        status is WorkItemStatus.PullRequestOpened or WorkItemStatus.Completed or WorkItemStatus.Failed or WorkItemStatus.Cancelled;

    public void AddUsage(Contracts.RunUsage? usage)
    {
        if (usage is not null)
            (InputTokens, OutputTokens, Cost, Duration) = (usage.InputTokens, usage.OutputTokens, usage.Cost, usage.Duration);
    }
}

/// <summary>
/// A step on a work item's timeline. <see cref="MessageId"/> is the message that reported it, so a redelivered
/// message adds nothing.
/// </summary>
public sealed class TimelineEntry
{
    public long Id { get; set; }
    public Guid WorkItemId { get; set; }
    public Guid MessageId { get; set; }
    public required string Kind { get; set; }
    public required string Detail { get; set; }
    public DateTime At { get; set; }
}

/// <summary>A webhook delivery already handled (GitHub redelivers with the same X-GitHub-Delivery id).</summary>
public sealed class WebhookDelivery
{
    public required string Id { get; set; }
    public required string Event { get; set; }
    public DateTime ReceivedAt { get; set; }
}
