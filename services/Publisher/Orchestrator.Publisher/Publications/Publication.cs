namespace Orchestrator.Publisher.Publications;

public enum PublicationStage
{
    Accepted,
    Planned,
    PullRequestOpened,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>
/// What Publisher knows and has written for one work item: the issue, the plan, the outcome, and the GitHub objects it
/// made (status comment, commit, pull request). One row per CorrelationId. Events may arrive in any order; each fills in
/// what it knows, and the status comment is rendered from the whole row.
/// </summary>
public sealed class Publication
{
    public Guid CorrelationId { get; set; }

    /// <summary>Set from <c>WorkItemAccepted</c> only: a publication without it is a work item Publisher has not seen accepted.</summary>
    public string? Repository { get; set; }

    public int? IssueNumber { get; set; }

    /// <summary>The branch the work item's pull request targets, as accepted.</summary>
    public string? BaseBranch { get; set; }
    public PublicationStage Stage { get; set; }
    public string? PlanSummary { get; set; }

    /// <summary>The plan's steps, one per line.</summary>
    public string? PlanSteps { get; set; }

    public string? Outcome { get; set; }
    public string? CancelledBy { get; set; }
    public int Turns { get; set; }
    public int ToolCalls { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public decimal Cost { get; set; }
    public TimeSpan Duration { get; set; }
    public long? CommentId { get; set; }

    /// <summary>The comment body last written, so a redelivered event that changes nothing edits nothing.</summary>
    public string? RenderedComment { get; set; }

    /// <summary>The stage whose labels the issue carries.</summary>
    public PublicationStage? LabelledStage { get; set; }

    public string? Branch { get; set; }
    public string? CommitSha { get; set; }
    public int? PullRequestNumber { get; set; }
    public string? PullRequestUrl { get; set; }

    /// <summary>Set before the first write of a publish and reused on a retry, so the commit (dated with it) gets the same SHA.</summary>
    public DateTime? PublishStartedAt { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public bool IsFinished => Stage is PublicationStage.PullRequestOpened or PublicationStage.Completed or PublicationStage.Failed or PublicationStage.Cancelled;

    public IReadOnlyList<string> Steps => PlanSteps is null ? [] : PlanSteps.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Moves the stage forward; a finished work item keeps its outcome (a late event does not undo it).</summary>
    public bool Advance(PublicationStage next)
    {
        if (IsFinished || (next == PublicationStage.Accepted && Stage != PublicationStage.Accepted))
            return false;
        Stage = next;
        return true;
    }

    public void AddUsage(Contracts.RunUsage? usage)
    {
        if (usage is null)
            return;
        (Turns, ToolCalls, InputTokens, OutputTokens, Cost, Duration) =
            (usage.Turns, usage.ToolCalls, usage.InputTokens, usage.OutputTokens, usage.Cost, usage.Duration);
    }
}
