using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// The infrastructure goes away under load and comes back: a transient failure must not fail a work item for good, and
/// nothing opened meanwhile may be left behind.
/// </summary>
[Collection(ProcessStack.Collection)]
public sealed class OutageTests
{
    private static readonly TimeSpan Outage = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Both_gateways_and_the_broker_down_for_a_minute_with_a_dozen_runs_in_flight_every_work_item_gets_its_pull_request()
    {
        await using var rabbit = await PrivateRabbitMq.StartAsync();
        var broker = await RabbitMqBroker.CreateVirtualHostAsync(broker: (rabbit.Url, rabbit.ManagementUrl));
        await using var stack = await ProcessStack.StartAsync(broker, [("PLANNER_MAX_CONCURRENT_RUNS", "12")],
            "Intake", "Planner", "ToolGateway", "ToolGateway", "Publisher");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var titles = Enumerable.Range(0, 12).Select(i => $"Typo report {(char)('A' + i)}").ToList();
        var reached = titles.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToList();
        // Each run reads the README, then waits for its plan until the outage has begun; whatever it asks after that (the
        // same attempt, or one started over), a model without memory answers.
        foreach (var (title, i) in titles.Select((t, i) => (t, i)))
            stack.Llm.Script(title).Then(TypoFix.Fixer).WaitFor(gate.Task, TypoFix.Fixer, reached[i]).Otherwise(TypoFix.Fixer);
        var issues = titles.Select(t => stack.GitHub.AddIssue(t, "The title says Widgts.", [ProcessStack.Label])).ToList();
        await Task.WhenAll(reached.Select(r => r.Task)).WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        // Every run holds a workspace on one of the two replicas and is waiting for the model. Then everything underneath goes.
        var clock = Stopwatch.StartNew();
        await stack.KillAsync("replica-1");
        await stack.KillAsync("replica-2");
        await rabbit.StopNodeAsync();
        gate.SetResult();
        await Task.Delay(Outage, TestContext.Current.CancellationToken);
        await rabbit.StartNodeAsync();
        var backAt = DateTimeOffset.UtcNow;
        await stack.StartAsync("ToolGateway");
        await stack.StartAsync("ToolGateway");
        var back = clock.Elapsed;

        var pulls = new List<int>();
        foreach (var issue in issues)
            pulls.Add((await stack.PullRequestForAsync(issue.Number)).Number);
        var done = clock.Elapsed;

        Assert.Equal(12, pulls.Distinct().Count());
        Assert.Equal(12, stack.GitHub.PullRequests.Count);
        Assert.All(issues, i => Assert.Contains("orchestrator:done", stack.GitHub.LabelsOf(i.Number)));
        // Nothing opened during or after the outage is left: no container, no workspace folder.
        await Eventually.Until(() => Docker.ContainersAsync(stack.Deployment), c => c.Count == 0, ProcessStack.Timeout, "the MCP containers to be removed");
        await Eventually.Until(() => Task.FromResult(Directory.EnumerateFileSystemEntries(Path.Combine(stack.Directory, "workspaces")).Count()),
            n => n == 0, ProcessStack.Timeout, "every workspace folder to be removed");

        // Read from Intake's ledger, which consumes from durable queues and so misses nothing (the test's recorder listens
        // on a queue of its own that goes with the broker and comes back only when it reconnects).
        using var intake = new HttpClient { BaseAddress = stack.Running["Intake"].Address }.WithToken(TestApiTokens.Reader);
        // Publisher opened the pull requests; Intake hears of each in a message of its own, a moment later.
        var items = await Eventually.Until(async () =>
            {
                using var ledger = JsonDocument.Parse(await intake.GetStringAsync("/api/work-items?pageSize=50", TestContext.Current.CancellationToken));
                return ledger.RootElement.GetProperty("items").EnumerateArray().Select(i => i.Clone()).ToList();
            }, all => all.Count == 12 && all.All(i => i.GetProperty("status").GetString() == "PullRequestOpened"),
            ProcessStack.Timeout, "Intake's ledger to show the twelve pull requests", TimeSpan.FromSeconds(1));
        var timeline = items.SelectMany(i => i.GetProperty("timeline").EnumerateArray()
            .Select(e => (Kind: e.GetProperty("kind").GetString()!, Detail: e.GetProperty("detail").GetString()!, At: e.GetProperty("at").GetDateTime()))).ToList();
        Assert.DoesNotContain(timeline, e => e.Kind == "failed");
        // The workspaces opened again once the broker was back, in parallel: seconds apart, not one after another.
        var reopened = timeline.Where(e => e.Kind == "progress" && e.Detail.StartsWith("workspace: opened", StringComparison.Ordinal) && e.At > backAt.UtcDateTime)
            .Select(e => (e.At - backAt.UtcDateTime).TotalSeconds).Order().ToList();
        TestContext.Current.SendDiagnosticMessage(
            $"outage: services back {back.TotalSeconds:0} s after it began; all 12 pull requests {(done - back).TotalSeconds:0} s after that; " +
            $"workspaces opened again at +{string.Join(", +", reopened.Select(s => s.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} s after the broker");
        Assert.Equal(12, reopened.Count);
    }

    [Fact]
    public async Task A_cancel_made_while_the_broker_is_down_is_answered_kept_and_stops_the_run_once_the_broker_is_back()
    {
        await using var rabbit = await PrivateRabbitMq.StartAsync();
        var broker = await RabbitMqBroker.CreateVirtualHostAsync(broker: (rabbit.Url, rabbit.ManagementUrl));
        await using var stack = await ProcessStack.StartAsync(broker, [], "Intake", "Planner", "ToolGateway");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The run reads the README, then waits for the model until the test is over: it runs until it is cancelled.
        stack.Llm.Script("Typo report").Then(TypoFix.Fixer).WaitFor(gate.Task, TypoFix.Fixer, reached);
        stack.GitHub.AddIssue("Typo report", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);
        using var intake = new HttpClient { BaseAddress = stack.Running["Intake"].Address }.WithToken(TestApiTokens.Writer);
        using var planner = new HttpClient { BaseAddress = stack.Running["Planner"].Address }.WithToken(TestApiTokens.Reader);
        using var page = JsonDocument.Parse(await intake.GetStringAsync("/api/work-items", TestContext.Current.CancellationToken));
        var id = page.RootElement.GetProperty("items")[0].GetProperty("id").GetGuid();

        await rabbit.StopNodeAsync();
        var cancel = await intake.PostCommandAsync($"/api/work-items/{id}/cancel", TestContext.Current.CancellationToken);
        var again = await intake.PostCommandAsync($"/api/work-items/{id}/cancel", TestContext.Current.CancellationToken);
        using var item = JsonDocument.Parse(await intake.GetStringAsync($"/api/work-items/{id}", TestContext.Current.CancellationToken));

        Assert.Equal(System.Net.HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("Cancelled", item.RootElement.GetProperty("status").GetString());
        await rabbit.StartNodeAsync();
        // The dispatcher announces the saved cancel; the Planner, back on the broker, stops the run.
        await Eventually.Until(async () =>
            {
                using var run = JsonDocument.Parse(await planner.GetStringAsync($"/api/runs/{id}", TestContext.Current.CancellationToken));
                return run.RootElement.GetProperty("status").GetString();
            }, status => status == "Cancelled", ProcessStack.Timeout, "the Planner's run to be cancelled", TimeSpan.FromSeconds(1));
        gate.SetResult();
    }
}
