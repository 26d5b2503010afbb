namespace Orchestrator.Planner.Runs;

public enum RunStatus
{
    Pending,
    Running,
    Proposed,
    Failed,
}

/// <summary>
/// One run of the agent for a work item, keyed by its CorrelationId: a redelivered WorkItemAccepted finds it and starts
/// nothing new, and a run the process was in the middle of when it stopped is picked up again at start.
/// </summary>
public sealed class Run
{
    public Guid CorrelationId { get; set; }
    public RunStatus Status { get; set; }
    /// <summary>The WorkItemAccepted that started the run, as JSON.</summary>
    public required string WorkItemJson { get; set; }
    /// <summary>The trace the work item belongs to (W3C traceparent), so a resumed run stays in it.</summary>
    public string? TraceParent { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
