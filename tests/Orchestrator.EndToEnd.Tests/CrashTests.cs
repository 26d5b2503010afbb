using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Intake.Api;
using Orchestrator.Intake.Ledger;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// Each service killed with SIGKILL in the middle of a run, and started again: the work item still ends with exactly one
/// pull request, and the ledger says so.
/// </summary>
[Collection(ProcessStack.Collection)]
public sealed class CrashTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task Intake_killed_mid_run_catches_up_and_the_issue_gets_one_pull_request()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        var (gate, reached) = HoldTurn(stack, planFirst: false, Plan, GoesOn);
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        await stack.KillAsync("Intake");
        gate.SetResult();
        await stack.PullRequestForAsync(issue.Number);
        var intake = await stack.StartAsync("Intake");

        await ExactlyOnePullRequestAsync(stack, issue.Number);
        using var http = new HttpClient { BaseAddress = intake.Address }.WithToken(TestApiTokens.Reader);
        var page = await Eventually.Until(() => http.GetFromJsonAsync<WorkItemPage>("/api/work-items", Json),
            p => p!.Items.Any(i => i.Status == WorkItemStatus.PullRequestOpened), ProcessStack.Timeout, "the ledger to catch up");
        Assert.Single(page!.Items);
    }

    [Fact]
    public async Task Planner_killed_mid_run_resumes_it_and_the_issue_gets_one_pull_request()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        // The held request dies with the Planner; the resumed run starts over.
        var (_, reached) = HoldTurn(stack, planFirst: false, Plan, StartsOver);
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        await stack.KillAsync("Planner");
        await stack.StartAsync("Planner");

        await ExactlyOnePullRequestAsync(stack, issue.Number);
        await NoContainersLeftAsync(stack);
    }

    [Fact]
    public async Task ToolGateway_killed_mid_run_the_run_starts_over_on_a_new_replica_and_the_issue_gets_one_pull_request()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        // Held: the model's first change, made once the replica holding the workspace is dead.
        var (gate, reached) = HoldTurn(stack, planFirst: true, Edit, StartsOver);
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        await stack.KillAsync("replica-1");
        await stack.StartAsync("ToolGateway");
        // The model's next call goes to the dead replica's workspace: the Planner starts the run over on the new one.
        gate.SetResult();

        await ExactlyOnePullRequestAsync(stack, issue.Number);
        Assert.Equal(TypoFix.FixedReadme, stack.FileOnBranch($"orchestrator/issue-{issue.Number}", "README.md"));
        await NoContainersLeftAsync(stack);
    }

    [Fact]
    public async Task With_two_ToolGateway_replicas_the_session_owner_killed_the_run_goes_on_the_other_one()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        await stack.StartAsync("ToolGateway");
        var (gate, reached) = HoldTurn(stack, planFirst: true, Edit, StartsOver);
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        var owner = new[] { "replica-1", "replica-2" }.Single(r => stack[r].Output.Contains("Workspace ", StringComparison.Ordinal)
            && stack[r].Output.Contains(" opened for ", StringComparison.Ordinal));
        var other = owner == "replica-1" ? "replica-2" : "replica-1";
        await stack.KillAsync(owner);
        gate.SetResult();

        await ExactlyOnePullRequestAsync(stack, issue.Number);
        Assert.Contains(" opened for ", stack[other].Output);
        await NoContainersLeftAsync(stack);
    }

    [Fact]
    public async Task Publisher_killed_while_opening_the_pull_request_finishes_it_without_a_second_one()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        stack.Llm.Script("Typo in the README").FixTheTypo();
        var held = stack.GitHub.Hold("POST", "/pulls");
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await held.Reached.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        // The pull request exists on GitHub, but Publisher dies before it hears so.
        await stack.KillAsync("Publisher");
        held.Release();
        await stack.StartAsync("Publisher");

        await ExactlyOnePullRequestAsync(stack, issue.Number);
        Assert.Contains("pull request opened", Assert.Single(stack.GitHub.CommentsOn(issue.Number)).Body);
    }

    private static readonly Func<LlmRequest, LlmReply> Plan =
        _ => LlmReply.Answer("""{"summary": "Fix the typo.", "steps": ["Fix README.md"]}""");

    private static readonly Func<LlmRequest, LlmReply> Edit = r => LlmReply.Call([("filesystem_edit_file",
        JsonSerializer.Serialize(new { path = $"{TypoFix.Root(r)}/README.md", edits = new[] { new { oldText = "Widgts", newText = "Widgets" } } }))]);

    /// <summary>
    /// The model reads the README (and plans, with <paramref name="planFirst"/>); its next answer (<paramref name="held"/>)
    /// waits for the gate; <paramref name="after"/> scripts what comes next: the same conversation going on, or a run
    /// started over.
    /// </summary>
    private static (TaskCompletionSource Gate, TaskCompletionSource Reached) HoldTurn(
        ProcessStack stack, bool planFirst, Func<LlmRequest, LlmReply> held, Action<LlmScript> after)
    {
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var script = stack.Llm.Script("Typo in the README")
            .CallTool("filesystem_read_text_file", r => new { path = $"{TypoFix.Root(r)}/README.md" });
        if (planFirst)
            script.Then(Plan);
        after(script.WaitFor(gate.Task, held, reached));
        return (gate, reached);
    }

    /// <summary>The conversation goes on after the plan: edit, say so, approve.</summary>
    private static void GoesOn(LlmScript script) => script
        .Then(Edit)
        .Reply("Fixed the typo in README.md.")
        .Reply("""{"approved": true, "problems": [], "commitMessage": "Fix the typo", "pullRequestTitle": "Fix README typo", "pullRequestBody": "Fixes the title."}""");

    private static void StartsOver(LlmScript script) => script.FixTheTypo();

    private static async Task ExactlyOnePullRequestAsync(ProcessStack stack, int issue)
    {
        var pull = await stack.PullRequestForAsync(issue);
        // Whatever is still in flight has settled once the comment says so; there is still one pull request.
        await Eventually.Until(() => Task.FromResult(stack.GitHub.CommentsOn(issue).SingleOrDefault()?.Body ?? ""),
            body => body.Contains("pull request opened", StringComparison.Ordinal), ProcessStack.Timeout, "the status comment to show the pull request");
        Assert.Equal([pull.Number], stack.GitHub.PullRequests.Select(p => p.Number));
        Assert.Empty(stack.Llm.Unscripted);
    }

    private static Task NoContainersLeftAsync(ProcessStack stack) =>
        Eventually.Until(() => Docker.ContainersAsync(stack.Deployment), c => c.Count == 0, ProcessStack.Timeout, "the MCP containers to be removed");
}
