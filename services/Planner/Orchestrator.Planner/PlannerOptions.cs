using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner;

/// <summary>How runs are scheduled and the budgets that bound each one. A run that exceeds a budget fails, naming it.</summary>
public sealed class PlannerOptions : IValidatedOptions
{
    /// <summary>How many runs this replica works on at once.</summary>
    [ConfigurationKeyName("PLANNER_MAX_CONCURRENT_RUNS")]
    public int MaxConcurrentRuns { get; set; } = 4;

    /// <summary>LLM requests per run, over all its phases.</summary>
    [ConfigurationKeyName("PLANNER_MAX_TURNS")]
    public int MaxTurns { get; set; } = 60;

    [ConfigurationKeyName("PLANNER_MAX_TOOL_CALLS")]
    public int MaxToolCalls { get; set; } = 150;

    /// <summary>Input plus output tokens per run.</summary>
    [ConfigurationKeyName("PLANNER_MAX_TOKENS")]
    public long MaxTokens { get; set; } = 2_000_000;

    /// <summary>US dollars per run, priced by <see cref="Llm.LlmOptions.Prices"/>; 0 turns the cost budget off.</summary>
    [ConfigurationKeyName("PLANNER_MAX_COST")]
    public decimal MaxCost { get; set; } = 5m;

    /// <summary>Wall-clock time per run, from the moment it starts (or resumes) to its proposal.</summary>
    [ConfigurationKeyName("PLANNER_MAX_DURATION")]
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the model may make the same tool call (same tool, same arguments) and have it fail.</summary>
    [ConfigurationKeyName("PLANNER_MAX_REPEATED_FAILURES")]
    public int MaxRepeatedFailures { get; set; } = 3;

    /// <summary>
    /// Attempts a run gets against lost workspaces: the ToolGateway replica holding it went away, or it opened without a
    /// server the run needs (PLANNER_REQUIRED_SERVERS). Each starts over in a new workspace. Planner restarts do not count.
    /// </summary>
    [ConfigurationKeyName("PLANNER_MAX_ATTEMPTS")]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often a run may be picked up again by a Planner that restarted while it ran (a run that keeps killing its Planner ends).</summary>
    [ConfigurationKeyName("PLANNER_MAX_RESUMES")]
    public int MaxResumes { get; set; } = 5;

    /// <summary>Comma-separated MCP servers a run cannot work without; a workspace that opens without one is opened again.</summary>
    [ConfigurationKeyName("PLANNER_REQUIRED_SERVERS")]
    public string RequiredServers { get; set; } = "filesystem";

    public IReadOnlyList<string> RequiredServerList =>
        [.. RequiredServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>How many times the run may go back and fix what its self-review found before it gives up.</summary>
    [ConfigurationKeyName("PLANNER_REVIEW_ROUNDS")]
    public int ReviewRounds { get; set; } = 1;

    /// <summary>A tool result longer than this is cut before the model sees it (and before it is stored).</summary>
    [ConfigurationKeyName("PLANNER_MAX_TOOL_RESULT_CHARS")]
    public int MaxToolResultChars { get; set; } = 20_000;

    public IEnumerable<string> Validate()
    {
        if (MaxConcurrentRuns < 1)
            yield return "PLANNER_MAX_CONCURRENT_RUNS must be at least 1";
        if (MaxTurns < 1)
            yield return "PLANNER_MAX_TURNS must be at least 1";
        if (MaxToolCalls < 0)
            yield return "PLANNER_MAX_TOOL_CALLS must not be negative";
        if (MaxTokens < 1)
            yield return "PLANNER_MAX_TOKENS must be at least 1";
        if (MaxCost < 0)
            yield return "PLANNER_MAX_COST must not be negative (0 turns the cost budget off)";
        if (MaxDuration <= TimeSpan.Zero)
            yield return "PLANNER_MAX_DURATION must be positive";
        if (MaxRepeatedFailures < 1)
            yield return "PLANNER_MAX_REPEATED_FAILURES must be at least 1";
        if (MaxAttempts < 1)
            yield return "PLANNER_MAX_ATTEMPTS must be at least 1";
        if (MaxResumes < 0)
            yield return "PLANNER_MAX_RESUMES must not be negative";
        if (ReviewRounds < 0)
            yield return "PLANNER_REVIEW_ROUNDS must not be negative";
        if (MaxToolResultChars < 256)
            yield return "PLANNER_MAX_TOOL_RESULT_CHARS must be at least 256";
    }
}
