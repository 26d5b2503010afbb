using System.Text.Json;

namespace Orchestrator.Testing.Llm;

/// <summary>The model's side of the conversation most tests hold: fixing the typo in a README that says "Widgts".</summary>
public static class TypoFix
{
    public const string Readme = "# Widgts\n\nSmall widgets.\n";
    public const string FixedReadme = "# Widgets\n\nSmall widgets.\n";

    /// <summary>The workspace root, as the planning prompt names it.</summary>
    public static string Root(LlmRequest request) => request.Find("checked out at `([^`]+)`");

    public const string PlanJson = """
        Here is my plan.
        ```json
        {"summary": "Fix the typo in the README's title.", "steps": ["Replace 'Widgts' with 'Widgets' in README.md"]}
        ```
        """;

    public const string ApprovedReview = """
        {"approved": true, "problems": [], "commitMessage": "Fix the typo in the README title", "pullRequestTitle": "Fix README typo", "pullRequestBody": "Replaces 'Widgts' with 'Widgets'."}
        """;

    /// <summary>Plan (having read the README), fix the typo with edit_file, say so, approve the diff.</summary>
    public static LlmScript FixTheTypo(this LlmScript script) => script
        .CallTool("filesystem_read_text_file", r => new { path = $"{Root(r)}/README.md" })
        .Reply(PlanJson)
        .CallTool("filesystem_edit_file", r => new { path = $"{Root(r)}/README.md", edits = new[] { new { oldText = "Widgts", newText = "Widgets" } } })
        .Reply("Fixed the typo in README.md.")
        .Reply(ApprovedReview);

    /// <summary>
    /// A model without memory that fixes the typo from whatever point of the conversation it is shown (for
    /// <see cref="LlmScript.Otherwise"/>, when a run may start over any number of times): a new conversation reads the
    /// README, the file read gets the plan, the go-ahead gets the edit, the edit the summary, and a review the approval.
    /// </summary>
    public static LlmReply Fixer(LlmRequest request)
    {
        if (request.Messages[0].Content.Contains("You review a change", StringComparison.Ordinal))
            return LlmReply.Answer(ApprovedReview);
        var last = request.Messages[^1];
        if (last.Role == "tool")
        {
            var called = request.Messages.Last(m => m.ToolCalls.Count > 0).ToolCalls[0];
            return called == "filesystem_read_text_file" ? LlmReply.Answer(PlanJson) : LlmReply.Answer("Fixed the typo in README.md.");
        }
        var root = Root(request);
        return last.Content.StartsWith("Now make the change", StringComparison.Ordinal)
            ? LlmReply.Call([("filesystem_edit_file", JsonSerializer.Serialize(
                new { path = $"{root}/README.md", edits = new[] { new { oldText = "Widgts", newText = "Widgets" } } }))])
            : LlmReply.Call([("filesystem_read_text_file", JsonSerializer.Serialize(new { path = $"{root}/README.md" }))]);
    }
}
