using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;
using static Orchestrator.Benchmarks.Figures;

namespace Orchestrator.Benchmarks;

/// <summary>
/// The whole path, label to pull request, through the four services as their real hosts (one process each), the real
/// broker and real MCP containers, with GitHub and the LLM doubled: a scripted model that answers at once and makes ten
/// tool calls per work item. It prints what the services cost at idle, the orchestration overhead of one work item at a
/// time (label to pull request, minus the time the LLM took), and the work items per minute of a burst.
/// </summary>
public static partial class PipelineBenchmark
{
    private const int Sequential = 10;
    private const int Burst = 30;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync()
    {
        await using var stack = await ProcessStack.StartAsync([("Logging:LogLevel:Default", "Warning"),
            ("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Information"), ("Logging:LogLevel:MassTransit", "Information")], ProcessStack.AllServices);
        Console.WriteLine($"# pipeline benchmark: {Environment.ProcessorCount} cores; four service processes, RabbitMQ and Docker on this machine; " +
            "the fake GitHub delivers the label webhook; the scripted LLM answers at once; 10 tool calls per work item");

        // Idle: started, connected, nothing to do for a while.
        await Task.Delay(Settle);
        var (rssTotal, pssTotal) = (0.0, 0.0);
        foreach (var service in ProcessStack.AllServices)
        {
            var process = stack.Running[service == "ToolGateway" ? "replica-1" : service];
            var (rss, pss) = (process.ResidentMegabytes(), process.ProportionalMegabytes());
            (rssTotal, pssTotal) = (rssTotal + rss, pssTotal + pss);
            Print($"idle_rss_mb_{service.ToLowerInvariant()}", rss);
        }
        // RSS counts the runtime and framework pages the four share once per process; PSS counts them once in all.
        Print("idle_rss_mb_total", rssTotal);
        Print("idle_pss_mb_total", pssTotal);

        var next = 0;
        // Warm-up: the first container start and the JIT are not what a running system pays per work item.
        await RunOneAsync(stack, ++next);

        var overheads = new List<double>();
        var latencies = new List<double>();
        for (var i = 0; i < Sequential; i++)
        {
            var (labelToPr, llm) = await RunOneAsync(stack, ++next);
            latencies.Add(labelToPr.TotalMilliseconds);
            overheads.Add((labelToPr - llm).TotalMilliseconds);
        }
        Print("label_to_pr_p50_ms", Percentile(latencies, 50));
        Print("orchestration_overhead_p50_ms", Percentile(overheads, 50));
        Print("orchestration_overhead_p90_ms", Percentile(overheads, 90));

        var burst = Enumerable.Range(++next, Burst).ToList();
        next += Burst;
        var started = Stopwatch.GetTimestamp();
        var issues = await Task.WhenAll(burst.Select(n => SubmitAsync(stack, n)));
        await Task.WhenAll(issues.Select(i => WaitForPullRequestAsync(stack, i.Issue)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        Print("work_items_per_min", Burst / elapsed.TotalMinutes);
        Print("burst_seconds", elapsed.TotalSeconds);

        var after = ProcessStack.AllServices.Sum(s => stack.Running[s == "ToolGateway" ? "replica-1" : s].ResidentMegabytes());
        Print("rss_mb_total_after_burst", after);
        return 0;
    }

    private static async Task<(TimeSpan LabelToPullRequest, TimeSpan Llm)> RunOneAsync(ProcessStack stack, int n)
    {
        var (issue, script, labelled) = await SubmitAsync(stack, n);
        var pullOpened = await WaitForPullRequestAsync(stack, issue);
        var llm = script.Requests.Where(r => r.AnsweredAt is not null).Aggregate(TimeSpan.Zero, (sum, r) => sum + (r.AnsweredAt!.Value - r.At));
        return (pullOpened - labelled, llm);
    }

    private static async Task<(int Issue, LlmScript Script, DateTimeOffset Labelled)> SubmitAsync(ProcessStack stack, int n)
    {
        var title = $"[bench-{n:D4}] Add a note";
        var script = stack.Llm.Script(title).Otherwise(Model);
        var labelled = DateTimeOffset.UtcNow;
        var issue = stack.GitHub.AddIssue(title, "Add a note file for this issue.", [ProcessStack.Label]);
        await stack.DeliverLabeledAsync(issue);
        return (issue.Number, script, labelled);
    }

    /// <summary>When the pull request was created on the fake GitHub (the time of the request that created it).</summary>
    private static async Task<DateTimeOffset> WaitForPullRequestAsync(ProcessStack stack, int issue)
    {
        var head = $"orchestrator/issue-{issue}";
        await Eventually.Until(() => Task.FromResult(stack.GitHub.PullRequests.Any(p => p.Head == head)), found => found,
            TimeSpan.FromMinutes(5), $"the pull request for issue #{issue}");
        return stack.GitHub.Requests.First(r => r.Method == "POST" && r.Path.EndsWith("/pulls", StringComparison.Ordinal)
            && r.Body.Contains(head, StringComparison.Ordinal) && r.Status < 300).At;
    }

    /// <summary>
    /// A model with no latency and no memory: planning lists the workspace and reads the README, then plans; executing
    /// reads seven times and writes the issue's note; then it says so, and approves the review. Ten tool calls.
    /// </summary>
    private static LlmReply Model(LlmRequest request)
    {
        if (request.Messages[0].Content.Contains("You review a change", StringComparison.Ordinal))
            return LlmReply.Answer("""{"approved": true, "problems": [], "commitMessage": "Add the note", "pullRequestTitle": "Add the note", "pullRequestBody": "Adds the note."}""");
        var root = TypoFix.Root(request);
        var go = request.Messages.ToList().FindIndex(m => m.Role == "user" && m.Content.StartsWith("Now make the change", StringComparison.Ordinal));
        var calls = request.Messages.Skip(go < 0 ? 0 : go).Count(m => m.Role == "tool");
        if (go < 0)
        {
            return calls switch
            {
                0 => Call("filesystem_list_directory", new { path = root }),
                1 => Call("filesystem_read_text_file", new { path = $"{root}/README.md" }),
                _ => LlmReply.Answer("""{"summary": "Add the note.", "steps": ["Write the note file"]}"""),
            };
        }
        var issue = IssueNumber().Match(request.AllText).Groups[1].Value;
        return calls switch
        {
            < 7 => calls % 2 == 0 ? Call("filesystem_read_text_file", new { path = $"{root}/README.md" }) : Call("filesystem_list_directory", new { path = root }),
            7 => Call("filesystem_write_file", new { path = $"{root}/note-{issue}.md", content = $"A note for issue {issue}.\n" }),
            _ => LlmReply.Answer("Wrote the note."),
        };
    }

    private static LlmReply Call(string tool, object arguments) => LlmReply.Call([(tool, JsonSerializer.Serialize(arguments))]);

    [GeneratedRegex(@"Issue #(\d+)")]
    private static partial Regex IssueNumber();
}
