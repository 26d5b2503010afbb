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
}
