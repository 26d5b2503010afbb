using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner;

public sealed class PlannerOptions : IValidatedOptions
{
    /// <summary>How many runs this replica works on at once.</summary>
    [ConfigurationKeyName("PLANNER_MAX_CONCURRENT_RUNS")]
    public int MaxConcurrentRuns { get; set; } = 4;

    public IEnumerable<string> Validate()
    {
        if (MaxConcurrentRuns < 1)
            yield return "PLANNER_MAX_CONCURRENT_RUNS must be at least 1";
    }
}
