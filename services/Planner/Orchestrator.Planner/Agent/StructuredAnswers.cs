using System.Text.Json;

namespace Orchestrator.Planner.Agent;

/// <summary>The plan the model makes before it changes anything: posted on the issue as <c>WorkItemPlanned</c>.</summary>
public sealed record Plan(string Summary, IReadOnlyList<string> Steps)
{
    public static (Plan? Plan, string? Error) Parse(string answer)
    {
        var (plan, error) = StructuredAnswer.Parse<Plan>(answer);
        if (plan is null)
            return (null, error);
        if (string.IsNullOrWhiteSpace(plan.Summary))
            return (null, "\"summary\" is empty");
        var steps = (plan.Steps ?? []).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToList();
        return steps.Count == 0 ? (null, "\"steps\" is empty") : (new Plan(plan.Summary.Trim(), steps), null);
    }
}

/// <summary>The self-review of a diff, with the texts of the commit and the pull request when it approves.</summary>
public sealed record Review(bool Approved, IReadOnlyList<string>? Problems, string? CommitMessage, string? PullRequestTitle, string? PullRequestBody)
{
    public static (Review? Review, string? Error) Parse(string answer)
    {
        var (review, error) = StructuredAnswer.Parse<Review>(answer);
        if (review is null)
            return (null, error);
        if (!review.Approved && (review.Problems ?? []).All(string.IsNullOrWhiteSpace))
            return (null, "\"approved\" is false but \"problems\" names none");
        if (review.Approved && string.IsNullOrWhiteSpace(review.CommitMessage))
            return (null, "\"commitMessage\" is empty");
        return (review, null);
    }
}

/// <summary>
/// A JSON object in a model's answer. Models wrap JSON in prose or code fences however they are asked, so the object
/// is taken from the first '{' to the last '}'.
/// </summary>
public static class StructuredAnswer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = true };

    public static (T? Value, string? Error) Parse<T>(string answer) where T : class
    {
        var start = answer.IndexOf('{');
        var end = answer.LastIndexOf('}');
        if (start < 0 || end < start)
            return (null, "the answer holds no JSON object");
        try
        {
            var value = JsonSerializer.Deserialize<T>(answer.AsSpan(start, end - start + 1), Options);
            return value is null ? (null, "the JSON is null") : (value, null);
        }
        catch (JsonException e)
        {
            return (null, $"the JSON does not parse: {e.Message}");
        }
    }
}
