using System.Text.RegularExpressions;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;
using Orchestrator.Testing.Telemetry;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>The system as its users run it: four processes, a real broker, real containers, GitHub and the LLM doubled.</summary>
[Collection(ProcessStack.Collection)]
public sealed partial class ProcessStackTests
{
    [Fact]
    public async Task A_labelled_issue_becomes_a_pull_request_with_the_change_a_finished_status_comment_and_one_trace()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        stack.Llm.Script("Typo in the README").FixTheTypo();

        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);

        var pull = await stack.PullRequestForAsync(issue.Number);
        Assert.Equal("Fix README typo", pull.Title);
        Assert.Contains($"Fixes #{issue.Number}", pull.Body);
        Assert.Equal(TypoFix.FixedReadme, stack.FileOnBranch(pull.Head, "README.md"));
        Assert.Equal(TypoFix.Readme, stack.FileOnBranch("main", "README.md"));

        // Publisher finishes the issue after opening the pull request, in requests of its own: wait for the last of them.
        await Eventually.Until(() => Task.FromResult(stack.GitHub.LabelsOf(issue.Number).Order().ToList()),
            labels => labels.SequenceEqual(["orchestrator:done", ProcessStack.Label]), ProcessStack.Timeout, "the labels to end on done");
        await Eventually.Until(() => Task.FromResult(stack.GitHub.CommentsOn(issue.Number)),
            comments => comments.Any(c => c.Body.Contains("### Orchestrator: pull request opened", StringComparison.Ordinal)),
            ProcessStack.Timeout, "the status comment's last stage");

        // The status comment is one comment, edited in place through its stages; the labels end on done.
        var comment = Assert.Single(stack.GitHub.CommentsOn(issue.Number));
        var headlines = stack.GitHub.Requests
            .Where(r => r.Method is "POST" or "PATCH" && r.Path.Contains("/comments") && r.Status < 300)
            .Select(r => Headline().Match(r.Body)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(["accepted, planning the change", "planned, making the change"], headlines.Take(2));
        Assert.StartsWith("pull request opened: ", headlines[^1]);
        Assert.Contains("- [x] Replace 'Widgts' with 'Widgets' in README.md", comment.Body);

        // One trace holds every service's spans for the work item, the LLM turns and the tool calls among them.
        var edit = await Eventually.Until(() => Task.FromResult(stack.Telemetry.Spans.FirstOrDefault(s => s.Name == "tool filesystem.edit_file")),
            s => s is not null, ProcessStack.Timeout, "the edit's span");
        var trace = await Eventually.Until(() => Task.FromResult(stack.Telemetry.Spans.Where(s => s.TraceId == edit!.TraceId).ToList()),
            spans => ProcessStack.AllServices.All(service => spans.Any(s => s.Service == service.ToLowerInvariant())) && spans.Count(IsLlmTurn) == 5,
            ProcessStack.Timeout, "spans from all four services and the five LLM turns in the work item's trace");
        Assert.Contains(trace, s => s.Service == "toolgateway" && s.Name == "call tool" && s.ParentSpanId.Length > 0);
        Assert.Contains(trace, s => s.Service == "publisher");
    }

    private static bool IsLlmTurn(ReceivedSpan span) =>
        span.Service == "planner" && span.Name.StartsWith("chat ", StringComparison.Ordinal) && span.Attributes.ContainsKey("gen_ai.usage.input_tokens");

    [GeneratedRegex(@"### Orchestrator: ([^\\]+)")]
    private static partial Regex Headline();
}
