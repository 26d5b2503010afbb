using Orchestrator.Planner.Runs;

namespace Orchestrator.Planner.Llm;

/// <summary>The LLM did not answer usefully: it refused the request, or kept failing after every retry.</summary>
public sealed class LlmCallFailedException(string reason, string detail, Exception? inner = null)
    : RunFailedException(reason, detail, inner)
{
    /// <summary>The endpoint kept answering 429, 5xx or nothing until the retries ran out.</summary>
    public const string Unavailable = "llm-unavailable";

    /// <summary>The endpoint refused the request in a way a retry cannot fix (400, 401, 403, 404…).</summary>
    public const string Refused = "llm-refused";
}
