using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.Planner.Runs;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.Planner.Tests;

public sealed class AgentRunTests
{
    [Fact]
    public async Task A_scripted_run_that_lists_reads_and_edits_a_file_proposes_exactly_that_edit()
    {
        await using var rig = await PlannerRig.StartAsync();
        var script = rig.Llm.Script("Typo in the README")
            .CallTool("filesystem_list_directory", r => new { path = TypoFix.Root(r) }, inputTokens: 1000, outputTokens: 50)
            .FixTheTypo();

        var id = await rig.SubmitAsync("Typo in the README", "The title says Widgts.");

        var proposed = await rig.WaitFor<ChangesProposed>(id);
        var file = Assert.Single(proposed.Files);
        Assert.Equal(new ChangedFile("README.md", FileChange.Modified, TypoFix.FixedReadme), file);
        Assert.Equal("Fix the typo in the README title", proposed.CommitMessage);
        Assert.Equal("Fix README typo", proposed.PullRequestTitle);
        Assert.StartsWith("Replaces 'Widgts' with 'Widgets'.\n\n### Verification\n\n**Not verified.** ", proposed.PullRequestBody);
        Assert.Equal("orchestrator/issue-7", proposed.WorkBranch);
        Assert.Contains("-# Widgts", proposed.Diff);
        Assert.Contains("+# Widgets", proposed.Diff);
        // Six turns (list, read, plan, edit, summary, review) and three tool calls; tokens as the server counted them.
        Assert.Equal(6, proposed.Usage.Turns);
        Assert.Equal(3, proposed.Usage.ToolCalls);
        Assert.Equal(1000 + 5 * 100, proposed.Usage.InputTokens);
        Assert.Equal(50 + 5 * 20, proposed.Usage.OutputTokens);
        Assert.Equal((1500 * 0.15m + 150 * 0.60m) / 1_000_000m, proposed.Usage.Cost);

        var planned = await rig.WaitFor<WorkItemPlanned>(id);
        Assert.Equal("Fix the typo in the README's title.", planned.Summary);
        Assert.Equal(["Replace 'Widgts' with 'Widgets' in README.md"], planned.Steps);

        // Planning offered only the tools that read; execution offered them all; the review, none.
        var requests = script.Requests;
        Assert.Equal(6, requests.Count);
        Assert.All(requests.Take(3), r =>
        {
            Assert.Contains("filesystem_read_text_file", r.Tools);
            Assert.DoesNotContain("filesystem_edit_file", r.Tools);
            Assert.DoesNotContain("filesystem_write_file", r.Tools);
        });
        Assert.Contains("filesystem_edit_file", requests[3].Tools);
        Assert.Empty(requests[5].Tools);
        Assert.All(requests, r => Assert.Equal($"Bearer {ScriptedLlm.ApiKey}", r.Authorization));
        // What the tools answered reached the model: the listing, then the file.
        Assert.Contains(requests[1].Messages, m => m.Role == "tool" && m.Content.Contains("[FILE] README.md"));
        Assert.Contains(requests[2].Messages, m => m.Role == "tool" && m.Content.Contains("# Widgts"));
        Assert.Contains("+# Widgets", requests[5].AllText);

        // The transcript: every message and call in order, with arguments and results, usage and timings.
        var run = await rig.RunAsync(id, RunStatus.Proposed);
        Assert.Equal(6, run.Usage.Turns);
        Assert.Equal(ScriptedLlm.Model, run.Model);
        var entries = run.Transcript!;
        Assert.Equal(Enumerable.Range(1, entries.Count), entries.Select(e => e.Sequence));
        Assert.Equal(["note", "system", "user"], entries.Take(3).Select(e => e.Kind));
        Assert.StartsWith("Workspace ", entries[0].Text);
        var edit = Assert.Single(entries, e => e.Kind == "tool-call" && e.Tool == "filesystem.edit_file");
        Assert.Equal("executing", edit.Phase);
        Assert.Equal("Widgts", edit.Arguments!.Value.GetProperty("edits")[0].GetProperty("oldText").GetString());
        var result = entries.Single(e => e.Kind == "tool-result" && e.CallId == edit.CallId);
        Assert.False(result.IsError);
        Assert.NotNull(result.DurationMs);
        Assert.Equal(6, entries.Count(e => e.Kind == "assistant" && e.InputTokens > 0 && e.DurationMs > 0));
        Assert.Contains(entries, e => e.Kind == "assistant" && e.Phase == "reviewing");

        // GenAI spans carry the model and the token usage of each turn, in the work item's trace.
        var runSpan = Assert.Single(rig.Planner.OwnSpans(id), s => s.OperationName == "run work item");
        var chats = rig.Planner.Spans.Where(s => s.TraceId == runSpan.TraceId && s.GetTagItem("gen_ai.usage.input_tokens") is not null).ToList();
        Assert.Equal(6, chats.Count);
        Assert.Equal(1500, chats.Sum(s => Convert.ToInt64(s.GetTagItem("gen_ai.usage.input_tokens"))));
        Assert.All(chats, s => Assert.Equal(ScriptedLlm.Model, s.GetTagItem("gen_ai.request.model")));

        await rig.NoContainersLeftAsync();
        Assert.Empty(rig.Llm.Unscripted);
    }

    [Fact]
    public async Task A_tool_failure_reaches_the_model_as_an_error_and_the_model_recovers()
    {
        await using var rig = await PlannerRig.StartAsync();
        var script = rig.Llm.Script("Typo in the README")
            // A tool that writes, asked for while planning; then a file that is not there; then the right one.
            .CallTool("filesystem_write_file", r => new { path = $"{TypoFix.Root(r)}/x.txt", content = "x" })
            .CallTool("filesystem_read_text_file", r => new { path = $"{TypoFix.Root(r)}/README.txt" })
            .FixTheTypo();

        var id = await rig.SubmitAsync("Typo in the README");

        var proposed = await rig.WaitFor<ChangesProposed>(id);
        Assert.Equal(["README.md"], proposed.Files.Select(f => f.Path));
        var requests = script.Requests;
        var refused = Assert.Single(requests[1].Messages, m => m.Role == "tool");
        Assert.Contains("filesystem_write_file is not available in this phase", refused.Content);
        var missing = requests[2].Messages.Last(m => m.Role == "tool");
        Assert.Contains("README.txt", missing.Content);
        Assert.Contains("ENOENT", missing.Content);

        var run = await rig.RunAsync(id);
        Assert.Equal(2, run.Transcript!.Count(e => e.Kind == "tool-result" && e.IsError));
    }

    [Fact]
    public async Task A_typed_gateway_failure_reaches_the_model_as_a_tool_error_and_the_run_goes_on()
    {
        await using var rig = await PlannerRig.StartAsync([TestCatalog.Filesystem, TestCatalog.Probe], [("TOOL_CALL_TIMEOUT", "00:00:01")]);
        var script = rig.Llm.Script("Typo in the README")
            .Reply(TypoFix.PlanJson)
            .CallTool("probe_sleep", _ => new { ms = 30_000 })
            .CallTool("probe_echo", _ => new { })
            .CallTool("filesystem_edit_file", r => new { path = $"{TypoFix.Root(r)}/README.md", edits = new[] { new { oldText = "Widgts", newText = "Widgets" } } })
            .Reply("Fixed the typo in README.md.")
            .Reply(TypoFix.ApprovedReview);

        var id = await rig.SubmitAsync("Typo in the README");

        var proposed = await rig.WaitFor<ChangesProposed>(id);
        Assert.Equal(["README.md"], proposed.Files.Select(f => f.Path));
        var requests = script.Requests;
        Assert.StartsWith("Tool call failed (Timeout):", requests[2].Messages[^1].Content);
        Assert.StartsWith("Tool call failed (InvalidArguments):", requests[3].Messages[^1].Content);
        Assert.Equal("tool", requests[3].Messages[^1].Role);
    }

    [Fact]
    public async Task The_same_failing_tool_call_made_again_and_again_stops_the_run()
    {
        await using var rig = await PlannerRig.StartAsync(("PLANNER_MAX_REPEATED_FAILURES", "3"));
        var script = rig.Llm.Script("Missing file");
        for (var i = 0; i < 3; i++)
            script.CallTool("filesystem_read_text_file", r => new { path = $"{TypoFix.Root(r)}/nope.md" });

        var id = await rig.SubmitAsync("Missing file");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("repeated-tool-failure", failed.Reason);
        Assert.Contains("filesystem.read_text_file 3 times", failed.Detail);
        Assert.Contains("PLANNER_MAX_REPEATED_FAILURES", failed.Detail);
        Assert.Equal(3, failed.Usage!.ToolCalls);
        await rig.NoContainersLeftAsync();
        Assert.Empty(rig.Recorder.All<ChangesProposed>());
    }

    [Fact]
    public async Task A_failing_command_repeated_after_the_workspace_changed_is_a_new_try_but_repeated_on_the_same_workspace_stops_the_run()
    {
        await using var rig = await PlannerRig.StartAsync([TestCatalog.Filesystem, TestCatalog.Sandbox],
            [("SANDBOX_DEFAULT_IMAGE", TestCatalog.NodeImage)], ("PLANNER_MAX_REPEATED_FAILURES", "2"));
        // `test` is the shell's own: it fails until fixed.txt exists.
        var check = new { command = "test -f fixed.txt" };
        var script = rig.Llm.Script("Make the check pass")
            .Reply(TypoFix.PlanJson)
            .CallTool("sandbox_run_command", _ => check)
            .CallTool("filesystem_write_file", r => new { path = $"{TypoFix.Root(r)}/notes.txt", content = "a first try\n" })
            .CallTool("sandbox_run_command", _ => check)
            .CallTool("sandbox_run_command", _ => check);

        var id = await rig.SubmitAsync("Make the check pass");

        var failed = await rig.WaitFor<WorkItemFailed>(id);
        Assert.Equal("repeated-tool-failure", failed.Reason);
        Assert.Contains("sandbox.run_command 2 times with no change in between", failed.Detail);
        // The second check came after a write, so only the third repeated it.
        Assert.Equal(4, failed.Usage!.ToolCalls);
        Assert.All(script.Requests.Skip(2).Take(1), r => Assert.StartsWith("exit code: 1", r.Messages[^1].Content));
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task Two_work_items_run_at_once_each_in_its_own_workspace()
    {
        await using var rig = await PlannerRig.StartAsync(("PLANNER_MAX_CONCURRENT_RUNS", "2"));
        TaskCompletionSource aReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource bReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        // Each run's first request is answered only once the other's has arrived: both are under way together.
        var a = rig.Llm.Script("Add file A").WaitFor(bReached.Task, _ => LlmReply.Answer(PlanFor("a.txt")), aReached);
        var b = rig.Llm.Script("Add file B").WaitFor(aReached.Task, _ => LlmReply.Answer(PlanFor("b.txt")), bReached);
        foreach (var (script, name) in new[] { (a, "a.txt"), (b, "b.txt") })
        {
            script.CallTool("filesystem_write_file", r => new { path = $"{TypoFix.Root(r)}/{name}", content = $"{name}\n" })
                .Reply($"Added {name}.")
                .Reply(TypoFix.ApprovedReview);
        }

        var idA = await rig.SubmitAsync("Add file A", issueNumber: 1);
        var idB = await rig.SubmitAsync("Add file B", issueNumber: 2);

        var proposedA = await rig.WaitFor<ChangesProposed>(idA);
        var proposedB = await rig.WaitFor<ChangesProposed>(idB);
        Assert.Equal([new ChangedFile("a.txt", FileChange.Added, "a.txt\n")], proposedA.Files);
        Assert.Equal([new ChangedFile("b.txt", FileChange.Added, "b.txt\n")], proposedB.Files);
        // Two sessions on the gateway (each the same /workspace path inside its own containers).
        var sessionA = (await rig.RunAsync(idA, RunStatus.Proposed)).Transcript![0].Text;
        var sessionB = (await rig.RunAsync(idB, RunStatus.Proposed)).Transcript![0].Text;
        Assert.NotEqual(sessionA, sessionB);
        // Each conversation stayed its own: no request of one mentions the other's work item.
        Assert.All(a.Requests, r => Assert.DoesNotContain("Add file B", r.AllText));
        Assert.All(b.Requests, r => Assert.DoesNotContain("Add file A", r.AllText));
        await rig.NoContainersLeftAsync();
    }

    [Fact]
    public async Task A_run_whose_change_is_already_there_completes_without_a_proposal()
    {
        await using var rig = await PlannerRig.StartAsync();
        rig.Llm.Script("Already done")
            .Reply("""{"summary": "Nothing to change: the README is right.", "steps": ["Confirm the README"]}""")
            .Reply("The README already says what the issue asks; I changed nothing.");

        var id = await rig.SubmitAsync("Already done");

        var completed = await rig.WaitFor<WorkItemCompleted>(id);
        Assert.Contains("I changed nothing", completed.Outcome);
        Assert.Equal(2, completed.Usage.Turns);
        Assert.Empty(rig.Recorder.All<ChangesProposed>());
        await rig.RunAsync(id, RunStatus.Completed);
    }

    [Fact]
    public async Task The_transcript_masks_secrets_the_run_came_across()
    {
        await using var rig = await PlannerRig.StartAsync();
        const string token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB";
        rig.Llm.Script("Leaky issue")
            .Reply($"I found {token} and {ScriptedLlm.ApiKey} in the repository.")
            .Reply("""{"summary": "Nothing.", "steps": ["Nothing"]}""")
            .Reply("Nothing to change.");

        var id = await rig.SubmitAsync("Leaky issue", body: $"Our key is {token}, please rotate it.");

        await rig.WaitFor<WorkItemCompleted>(id);
        var json = await rig.RunJsonAsync(id);
        Assert.DoesNotContain(token, json);
        Assert.DoesNotContain(ScriptedLlm.ApiKey, json);
        Assert.Contains("[redacted]", json);
        Assert.DoesNotContain(rig.Planner.Logs, l => l.Contains(ScriptedLlm.ApiKey));
    }

    [Fact]
    public async Task Transcripts_are_served_only_with_a_token_and_name_their_status()
    {
        await using var rig = await PlannerRig.StartAsync();
        rig.Llm.Script("Quiet issue")
            .Reply("""{"summary": "Nothing.", "steps": ["Nothing"]}""")
            .Reply("Nothing to change.");
        var id = await rig.SubmitAsync("Quiet issue", body: "Private repository text.");
        // Its status is saved just after the message that ends it.
        await rig.RunAsync(id, RunStatus.Completed);
        using var anonymous = new HttpClient { BaseAddress = rig.Planner.Address };
        using var reader = new HttpClient { BaseAddress = rig.Planner.Address }.WithToken(TestApiTokens.Reader);

        foreach (var path in new[] { "/api/runs", $"/api/runs/{id}" })
        {
            var refused = await anonymous.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.DoesNotContain("Private repository text", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        using var run = JsonDocument.Parse(await reader.GetStringAsync($"/api/runs/{id}", TestContext.Current.CancellationToken));
        Assert.Equal("Completed", run.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_transcript_of_an_unknown_run_is_404()
    {
        await using var rig = await PlannerRig.StartAsync();
        var response = await rig.Planner.Http.GetAsync($"/api/runs/{Guid.NewGuid()}", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("No run for work item", problem.RootElement.GetProperty("title").GetString());
    }

    private static string PlanFor(string file) => $$"""{"summary": "Add {{file}}.", "steps": ["Write {{file}}"]}""";
}
