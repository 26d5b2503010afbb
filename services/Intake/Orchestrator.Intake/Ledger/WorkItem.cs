namespace Orchestrator.Intake.Ledger;

public enum WorkItemStatus
{
    Accepted,
    Planned,
    InProgress,
    PullRequestOpened,
    Completed,
    Failed,
}

/// <summary>One work item in the ledger. Its id is the CorrelationId every message about it carries.</summary>
public sealed class WorkItem
{
    public Guid Id { get; set; }
    public required string Repository { get; set; }
    public int? IssueNumber { get; set; }
    public required string Title { get; set; }
    public required string Body { get; set; }
    public required string BaseBranch { get; set; }
    public WorkItemStatus Status { get; set; }
    public string? PullRequestUrl { get; set; }
    public string? TraceId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<TimelineEntry> Timeline { get; set; } = [];

    public bool IsFinished => Status is WorkItemStatus.PullRequestOpened or WorkItemStatus.Completed or WorkItemStatus.Failed;
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
