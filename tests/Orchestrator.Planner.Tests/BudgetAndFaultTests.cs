using Orchestrator.Contracts;
using Orchestrator.Planner.Runs;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.Planner.Tests;

public sealed class BudgetAndFaultTests
{
    [Fact]
    public async Task A_run_over_its_token_budget_fails_naming_the_token_budget()
    {
        await using var rig = await PlannerRig.StartAsync(("PLANNER_MAX_TOKENS", "1000"));
        rig.Llm.Script("Big issue")
            .CallTool("filesystem_list_directory", r => new { path = TypoFix.Root(r) }, inputTokens: 700, outputTokens: 100)
            .CallTool("filesystem_list_directory", r => new { path = $"{TypoFix.Root(r)}/src" }, inputTokens: 700, outputTokens: 100);

        var id = await rig.SubmitAsync("Big issue");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("token-budget-exceeded", failed.Reason);
        Assert.Equal("The run used 1,600 tokens; the limit is 1,000 (PLANNER_MAX_TOKENS).", failed.Detail);
        Assert.Equal(2, failed.Usage!.Turns);
        Assert.Equal(1400, failed.Usage.InputTokens);
        // The turn that went over is the last: its tool call was never made.
        Assert.Equal(1, failed.Usage.ToolCalls);
        await rig.NoContainersLeftAsync();
        var run = await rig.RunAsync(id, RunStatus.Failed);
        Assert.Equal("token-budget-exceeded", run.FailureReason);
        Assert.Equal("failure", run.Transcript![^1].Kind);
    }

    [Fact]
    public async Task A_run_over_its_wall_clock_budget_fails_naming_the_time_budget()
    {
        await using var rig = await PlannerRig.StartAsync(("PLANNER_MAX_DURATION", "00:00:04"));
        // The model never answers the second request: only the deadline can end the run.
        var script = rig.Llm.Script("Slow issue")
            .CallTool("filesystem_list_directory", r => new { path = TypoFix.Root(r) })
            .WaitFor(new TaskCompletionSource().Task, _ => LlmReply.Answer("never"));

        var id = await rig.SubmitAsync("Slow issue");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("time-budget-exceeded", failed.Reason);
        Assert.Equal("The run took longer than 4 s (PLANNER_MAX_DURATION).", failed.Detail);
        Assert.True(failed.Usage!.Duration >= TimeSpan.FromSeconds(4), $"failed after {failed.Usage.Duration}");
        await Eventually.Until(() => Task.FromResult(script.Requests[^1].Aborted), aborted => aborted, PlannerRig.Timeout,
            "the held LLM request to be abandoned");
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_retried_after_that_wait_and_the_run_completes()
    {
        await using var rig = await PlannerRig.StartAsync();
        var script = rig.Llm.Script("Typo in the README")
            .Fail(429, ("Retry-After", "2"))
            .FixTheTypo();

        var id = await rig.SubmitAsync("Typo in the README");

        var proposed = await rig.WaitFor<ChangesProposed>(id);
        Assert.Equal(["README.md"], proposed.Files.Select(f => f.Path));
        var requests = script.Requests;
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(2),
            $"the retry came {(requests[1].At - requests[0].At).TotalSeconds:0.00} s after the 429, not after the 2 s asked for");
        // The retried request is the same conversation, not a new turn.
        Assert.Equal(requests[0].Messages.Count, requests[1].Messages.Count);
        Assert.Equal(5, proposed.Usage.Turns);
        var retry = Assert.Single((await rig.RunAsync(id)).Transcript!, e => e.Kind == "retry");
        Assert.Contains("HTTP 429", retry.Text);
        Assert.Contains("retrying in 2 s", retry.Text);
    }

    [Fact]
    public async Task An_LLM_that_keeps_failing_fails_the_run_clearly_once_the_retries_run_out()
    {
        await using var rig = await PlannerRig.StartAsync(("LLM_MAX_RETRIES", "2"));
        var script = rig.Llm.Script("Unlucky issue")
            .Fail(503, ("Retry-After", "0"))
            .Fail(502, ("Retry-After", "0"))
            .Fail(503, ("Retry-After", "0"));

        var id = await rig.SubmitAsync("Unlucky issue");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("llm-unavailable", failed.Reason);
        Assert.StartsWith($"The LLM at 127.0.0.1 failed 3 time(s) in a row, last with HTTP 503", failed.Detail);
        Assert.EndsWith("giving up after 2 retries (LLM_MAX_RETRIES).", failed.Detail);
        Assert.Equal(3, script.Requests.Count);
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task An_LLM_that_refuses_the_request_fails_the_run_at_once()
    {
        await using var rig = await PlannerRig.StartAsync();
        var script = rig.Llm.Script("Refused issue").Fail(401);

        var id = await rig.SubmitAsync("Refused issue");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("llm-refused", failed.Reason);
        Assert.Contains("HTTP 401", failed.Detail);
        Assert.Single(script.Requests);
    }

    [Fact]
    public async Task Cancelling_a_work_item_mid_run_stops_it_and_leaves_no_container_behind()
    {
        await using var rig = await PlannerRig.StartAsync();
        TaskCompletionSource held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        var script = rig.Llm.Script("Long issue")
            .CallTool("filesystem_list_directory", r => new { path = TypoFix.Root(r) })
            .WaitFor(new TaskCompletionSource().Task, _ => LlmReply.Answer("never"), held);

        var id = await rig.SubmitAsync("Long issue");
        await held.Task.WaitAsync(PlannerRig.Timeout, TestContext.Current.CancellationToken);
        Assert.NotEmpty(await rig.ContainersAsync());

        await rig.Recorder.Publish(new WorkItemCancelled(id, "octocat"));

        await rig.NoContainersLeftAsync();
        // The cancel marks the run at once; the run itself says so when it has stopped.
        await Eventually.Until(() => rig.RunAsync(id), r => r.Transcript![^1].Text == "Stopped: the work item was cancelled.", PlannerRig.Timeout,
            "the run to stop");
        Assert.Equal(RunStatus.Cancelled, (await rig.RunAsync(id)).Status);
        await Eventually.Until(() => Task.FromResult(script.Requests[^1].Aborted), aborted => aborted, PlannerRig.Timeout, "the LLM request to be abandoned");
        Assert.Empty(rig.Recorder.All<WorkItemFailed>());
        Assert.Empty(rig.Recorder.All<ChangesProposed>());
    }

    [Fact]
    public async Task A_run_cut_off_by_a_crash_resumes_at_the_next_start_closing_the_workspace_it_left_open()
    {
        await using var rig = await PlannerRig.StartAsync([TestCatalog.Filesystem], [], plannerInProcess: false);
        TaskCompletionSource held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Llm.Script("Typo in the README")
            .CallTool("filesystem_list_directory", r => new { path = TypoFix.Root(r) })
            .WaitFor(new TaskCompletionSource().Task, _ => LlmReply.Answer("never"), held)
            .FixTheTypo();
        await using (var crashing = rig.StartPlannerProcess())
        {
            await crashing.WaitUntilStartedAsync(PlannerRig.Timeout);
            await rig.SubmitAsync("Typo in the README");
            await held.Task.WaitAsync(PlannerRig.Timeout, TestContext.Current.CancellationToken);
            crashing.Kill();
        }
        var left = await rig.ContainersAsync();
        Assert.NotEmpty(left);

        await rig.StartPlannerAsync();

        var proposed = await rig.WaitFor<ChangesProposed>(rig.Recorder.All<WorkItemAccepted>().Single().CorrelationId);
        Assert.Equal(["README.md"], proposed.Files.Select(f => f.Path));
        // The budget went on from what the first attempt had on record: its answered turn and its tool call (the request
        // in flight when it died never answered).
        Assert.Equal(1 + 5, proposed.Usage.Turns);
        Assert.Equal(1 + 2, proposed.Usage.ToolCalls);
        var run = await rig.RunAsync(proposed.CorrelationId, RunStatus.Proposed);
        // A restart of the Planner is counted as such, not as a lost workspace.
        Assert.Equal((2, 1, 0), (run.Attempts, run.Resumes, run.WorkspaceLosses));
        Assert.Contains(run.Transcript!, e => e.Attempt == 2 && e.Text is { } t && t.StartsWith("Resumed after a Planner restart (1 so far", StringComparison.Ordinal));
        Assert.Contains(run.Transcript!, e => e.Attempt == 2 && e.Text is { } t && t.StartsWith("Closed workspace ") && t.EndsWith(", left open by attempt 1."));
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task A_server_that_does_not_start_is_on_the_timeline_and_the_run_goes_on_without_it()
    {
        var broken = TestCatalog.Git with { Image = "orchestrator-test/not-built:1" };
        await using var rig = await PlannerRig.StartAsync([TestCatalog.Filesystem, broken], []);
        rig.Llm.Script("Typo in the README").FixTheTypo();

        var id = await rig.SubmitAsync("Typo in the README");

        var progressed = await rig.WaitFor<WorkItemProgressed>(id, p => p.Stage == "workspace" && p.Detail.Contains("unavailable", StringComparison.Ordinal));
        Assert.Contains("orchestrator-test/not-built:1", progressed.Detail);
        await rig.WaitFor<ChangesProposed>(id);
        var run = await rig.RunAsync(id, RunStatus.Proposed);
        Assert.Contains(run.Transcript!, e => e.Kind == "note" && e.IsError && e.Text!.Contains("Server git", StringComparison.Ordinal));
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task A_workspace_without_a_server_the_run_needs_is_opened_again_then_the_run_fails_naming_it()
    {
        var broken = TestCatalog.Filesystem with { Image = "orchestrator-test/not-built:1" };
        await using var rig = await PlannerRig.StartAsync([broken, TestCatalog.Git], [], ("PLANNER_MAX_ATTEMPTS", "2"));

        var id = await rig.SubmitAsync("Typo in the README");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("tools-unavailable", failed.Reason);
        Assert.StartsWith("The workspace opened without filesystem (PLANNER_REQUIRED_SERVERS). Server filesystem", failed.Detail);
        var run = await rig.RunAsync(id, RunStatus.Failed);
        Assert.Equal((2, 2, 0), (run.Attempts, run.WorkspaceLosses, run.Resumes));
        Assert.Equal(2, rig.Recorder.All<WorkItemProgressed>().Count(p => p.CorrelationId == id && p.Detail.Contains("unavailable", StringComparison.Ordinal)));
        Assert.Empty(rig.Llm.Requests);
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task A_workspace_slower_to_open_than_the_request_timeout_is_asked_for_again_and_the_run_goes_on_in_it()
    {
        // The probe answers its first message after 7 s, so the workspace takes longer to open than the Planner waits (4 s).
        var slow = TestCatalog.Probe with { Environment = new Dictionary<string, string> { ["PROBE_START_DELAY_MS"] = "7000" } };
        await using var rig = await PlannerRig.StartAsync([TestCatalog.Filesystem, slow], [], ("WORKSPACE_REQUEST_TIMEOUT", "00:00:04"));
        rig.Llm.Script("Typo in the README").FixTheTypo();

        var id = await rig.SubmitAsync("Typo in the README");

        await rig.WaitFor<ChangesProposed>(id);
        var run = await rig.RunAsync(id, RunStatus.Proposed);
        Assert.Contains(run.Transcript!, e => e.Text == "ToolGateway did not answer in time (WORKSPACE_REQUEST_TIMEOUT); asking again.");
        // The repeated request joined the opening under way: one workspace, opened once, and closed.
        Assert.Single(rig.Recorder.All<WorkItemProgressed>(), p => p.CorrelationId == id && p.Detail.StartsWith("opened", StringComparison.Ordinal));
        Assert.Equal((1, 0), (run.Attempts, run.WorkspaceLosses));
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task A_cancel_that_comes_before_the_work_item_means_its_run_never_starts()
    {
        await using var rig = await PlannerRig.StartAsync(("Logging:LogLevel:Orchestrator.Planner", "Information"));
        var id = Guid.NewGuid();
        await rig.Recorder.Publish(new WorkItemCancelled(id, "octocat"));
        await rig.RunAsync(id, RunStatus.Cancelled);

        await rig.Recorder.Publish(new WorkItemAccepted(id, PlannerRig.Repository, 3, "Cancelled early", "", [], "octocat", "main", rig.CloneUrl));

        await Eventually.Until(() => Task.FromResult(rig.Planner.Logs.Any(l => l.Contains($"Work item {id} arrived again; its run is already Cancelled"))),
            seen => seen, PlannerRig.Timeout, "the Planner to pass over the work item");
        var run = await rig.RunAsync(id);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal(0, run.Attempts);
        Assert.Empty(rig.Llm.Requests);
    }
}
