using Orchestrator.Contracts;
using Orchestrator.Planner.Llm;

namespace Orchestrator.Planner.Runs;

/// <summary>A budget ran out: the run fails with <c>{budget}-budget-exceeded</c>, the detail naming the limit and its setting.</summary>
public sealed class BudgetExceededException(string budget, string detail) : RunFailedException($"{budget}-budget-exceeded", detail)
{
    public string Budget { get; } = budget;
}

/// <summary>
/// What a run has spent against its limits. The counters are the run's own columns, so an attempt that resumes after a
/// restart goes on from what the earlier attempts spent rather than from zero.
/// </summary>
public sealed class RunBudget(Run run, PlannerOptions limits, ModelPrice? price, TimeProvider clock)
{
    private readonly TimeSpan _spentBefore = run.Duration;
    private readonly long _started = clock.GetTimestamp();

    public TimeSpan Elapsed => _spentBefore + clock.GetElapsedTime(_started);

    /// <summary>Wall-clock time left, never negative.</summary>
    public TimeSpan TimeLeft => limits.MaxDuration > Elapsed ? limits.MaxDuration - Elapsed : TimeSpan.Zero;

    /// <summary>What the run has spent so far (this also brings the run's duration up to date).</summary>
    public RunUsage Usage
    {
        get
        {
            UpdateDuration();
            return run.Usage;
        }
    }

    public void UpdateDuration() => run.Duration = Elapsed;

    public void BeforeTurn()
    {
        if (run.Turns >= limits.MaxTurns)
            throw new BudgetExceededException("turn", $"The run used all {limits.MaxTurns} of its turns (PLANNER_MAX_TURNS).");
        run.Turns++;
    }

    public void BeforeToolCall()
    {
        if (run.ToolCalls >= limits.MaxToolCalls)
            throw new BudgetExceededException("tool-call", $"The run used all {limits.MaxToolCalls} of its tool calls (PLANNER_MAX_TOOL_CALLS).");
        run.ToolCalls++;
    }

    /// <summary>Adds what one LLM answer cost.</summary>
    public void Spend(long inputTokens, long outputTokens)
    {
        run.InputTokens += inputTokens;
        run.OutputTokens += outputTokens;
        run.Cost += price?.Cost(inputTokens, outputTokens) ?? 0m;
        UpdateDuration();
    }

    /// <summary>Throws when the tokens or the cost spent so far are over their limits.</summary>
    public void CheckSpend()
    {
        var tokens = run.InputTokens + run.OutputTokens;
        if (tokens > limits.MaxTokens)
            throw new BudgetExceededException("token", $"The run used {tokens:N0} tokens; the limit is {limits.MaxTokens:N0} (PLANNER_MAX_TOKENS).");
        if (limits.MaxCost > 0 && run.Cost > limits.MaxCost)
            throw new BudgetExceededException("cost", $"The run cost ${run.Cost:0.0000}; the limit is ${limits.MaxCost:0.00} (PLANNER_MAX_COST).");
    }

    public BudgetExceededException TimeExceeded() =>
        new("time", $"The run took longer than {Describe(limits.MaxDuration)} (PLANNER_MAX_DURATION).");

    private static string Describe(TimeSpan time) =>
        time.TotalMinutes >= 1 && time.Seconds == 0 ? $"{time.TotalMinutes:0} min" : $"{time.TotalSeconds:0.#} s";
}
