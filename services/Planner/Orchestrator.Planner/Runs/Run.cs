using Orchestrator.Contracts;

namespace Orchestrator.Planner.Runs;

/// <summary>Where a run's current attempt is.</summary>
public enum RunPhase
{
    /// <summary>Opening its workspace.</summary>
    Starting,

    /// <summary>Reading, with the tools that change nothing, to a plan.</summary>
    Planning,

    /// <summary>Making the change with every tool.</summary>
    Executing,

    /// <summary>The repository's tests run on the change and on the base commit, in fresh sandboxes, and are compared.</summary>
    Verifying,

    /// <summary>A separate conversation reviews the diff.</summary>
    Reviewing,
}

public enum RunStatus
{
    Pending,
    Running,
    Proposed,
    Completed,
    Failed,
    Cancelled,
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
    /// <summary>How many times the run has started: its first start, each start over and each resume.</summary>
    public int Attempts { get; set; }
    /// <summary>Workspaces the run lost (their replica went away, or one opened without a server the run needs): bounded by PLANNER_MAX_ATTEMPTS.</summary>
    public int WorkspaceLosses { get; set; }
    /// <summary>Times the run was picked up again by a Planner that started while it was running: bounded by PLANNER_MAX_RESUMES.</summary>
    public int Resumes { get; set; }
    /// <summary>Where the current (or last) attempt is.</summary>
    public RunPhase? Phase { get; set; }
    public string? Model { get; set; }
    /// <summary>The workspace the current attempt holds, so an attempt that resumes after a crash can close it first.</summary>
    public Guid? SessionId { get; set; }
    public Uri? ReplicaAddress { get; set; }
    public string? FailureReason { get; set; }
    public string? Error { get; set; }
    public int Turns { get; set; }
    public int ToolCalls { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public decimal Cost { get; set; }
    public TimeSpan Duration { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<TranscriptEntry> Transcript { get; set; } = [];

    /// <summary>What the run has spent, as the messages that end it report it.</summary>
    public RunUsage Usage => new(Turns, ToolCalls, InputTokens, OutputTokens, Cost, Duration);

    public bool IsFinished => Status is RunStatus.Proposed or RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled;
}

/// <summary>
/// One thing that happened in a run, in order: a message to or from the model, a tool call and its result, a retry,
/// the end. Text and arguments are stored with secrets masked.
/// </summary>
public sealed class TranscriptEntry
{
    public long Id { get; set; }
    public Guid CorrelationId { get; set; }
    public int Sequence { get; set; }
    public int Attempt { get; set; }
    public DateTime At { get; set; }
    public required string Phase { get; set; }
    /// <summary>system, user, assistant, tool-call, tool-result, retry, note, failure.</summary>
    public required string Kind { get; set; }
    public string? Text { get; set; }
    /// <summary>"server.tool" for tool calls and results.</summary>
    public string? Tool { get; set; }
    public string? CallId { get; set; }
    public string? ArgumentsJson { get; set; }
    public bool IsError { get; set; }
    public long? InputTokens { get; set; }
    public long? OutputTokens { get; set; }
    public TimeSpan? Duration { get; set; }
}
