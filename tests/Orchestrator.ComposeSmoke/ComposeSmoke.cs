using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;
using Orchestrator.Testing.Llm;

namespace Orchestrator.ComposeSmoke;

/// <summary>
/// The system as its users run it: docker-compose.yml built and started (base images are whatever DOTNET_SDK_IMAGE,
/// DOTNET_RUNTIME_IMAGE, RABBITMQ_IMAGE and JAEGER_IMAGE name), GitHub and the LLM the tests' stand-ins, listening where
/// the containers reach them (the Docker bridge's address, as host.docker.internal). One labelled issue becomes a pull
/// request; the broker's management API and the tracing dashboard's API are checked; toolgateway is scaled to 3 and two
/// more issues go through. The stack is left running: scripts/compose-smoke.sh tears it down.
/// </summary>
internal static class ComposeSmoke
{
    private const string Repository = "acme/widgets";
    private const string Label = "orchestrator:work-item";
    private static readonly string[] Services = ["intake", "planner", "toolgateway", "publisher"];
    private static readonly TimeSpan WorkItemTimeout = TimeSpan.FromMinutes(4);
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static async Task RunAsync()
    {
        var root = TestPaths.RepositoryRoot;
        var work = TestPaths.NewTempDirectory("compose-smoke");
        var bridge = await HostAddressAsync();
        var bare = GitRepository.CreateBare(Path.Combine(work, "repos"), Repository, "main", new Dictionary<string, string>
        {
            ["README.md"] = TypoFix.Readme,
            // The repository's test: its title is spelt right. The sandbox's image has a shell and node, no grep.
            [".orchestrator.yml"] = "test:\n  command: 'read title < README.md; [ \"$title\" = \"# Widgets\" ]'\n",
        });
        var token = "ghp_smoke" + Guid.NewGuid().ToString("N");
        await using var gitHub = await FakeGitHub.StartAsync(Repository, bare, token, $"http://{bridge}:0");
        await using var llm = await ScriptedLlm.StartAsync($"http://{bridge}:0");
        var webhookSecret = Guid.NewGuid().ToString("N");
        var (rabbitUser, rabbitPassword) = ("smoke", Guid.NewGuid().ToString("N"));
        var apiToken = TestApiTokens.RandomToken();
        var ports = new Dictionary<string, int>
        {
            ["INTAKE_PORT"] = FreePort(), ["PLANNER_PORT"] = FreePort(), ["RABBITMQ_UI_PORT"] = FreePort(), ["TRACING_UI_PORT"] = FreePort(),
        };
        var workspaces = Path.Combine(work, "workspaces");
        Directory.CreateDirectory(workspaces);
        var deployment = Environment.GetEnvironmentVariable("DEPLOYMENT_NAME") ?? "orchestrator-smoke";
        var variables = new Dictionary<string, string>
        {
            ["RABBITMQ_USER"] = rabbitUser,
            ["RABBITMQ_PASSWORD"] = rabbitPassword,
            ["RABBITMQ_INTAKE_PASSWORD"] = Guid.NewGuid().ToString("N"),
            ["RABBITMQ_PLANNER_PASSWORD"] = Guid.NewGuid().ToString("N"),
            ["RABBITMQ_TOOLGATEWAY_PASSWORD"] = Guid.NewGuid().ToString("N"),
            ["RABBITMQ_PUBLISHER_PASSWORD"] = Guid.NewGuid().ToString("N"),
            ["REPO_OWNER"] = "acme",
            ["REPO_NAME"] = "widgets",
            ["GITHUB_API_URL"] = OnHost(gitHub.Url).ToString(),
            ["GITHUB_TOKEN"] = token,
            ["INTAKE_GITHUB_TOKEN"] = token,
            ["API_TOKENS"] = $"smoke:read:{apiToken}",
            ["GITHUB_WEBHOOK_SECRET"] = webhookSecret,
            ["GITHUB_POLL_INTERVAL"] = "00:00:05",
            ["GIT_CLONE_BASE_URL"] = OnHost(gitHub.GitBaseUrl).ToString(),
            ["OPENAI_BASE_URL"] = OnHost(llm.BaseUrl).ToString(),
            ["OPENAI_API_KEY"] = ScriptedLlm.ApiKey,
            ["OPENAI_MODEL"] = ScriptedLlm.Model,
            ["WORKSPACES_HOST_PATH"] = workspaces,
            ["DEPLOYMENT_NAME"] = deployment,
            ["DOCKER_GID"] = await Compose.DockerSocketGroupAsync(),
            // No registry here: the sandbox runs the image built from the host's node (scripts/lib/infra.sh).
            ["SANDBOX_DEFAULT_IMAGE"] = "orchestrator-test/node:20",
        };
        foreach (var (key, port) in ports)
            variables[key] = port.ToString();
        // The base images, the project name and the rest of the caller's environment reach docker-compose as they are.
        var compose = new Compose(root, variables, Path.Combine(work, "compose.log"));
        Step($"fakes on {bridge} (host.docker.internal); compose log: {compose.LogFile}");

        Step("building the images (docker-compose build)");
        await compose.RunAsync(TimeSpan.FromMinutes(20), ["build", .. Services]);
        // The gateway, which holds the Docker socket, is not root: neither in its image nor as it runs.
        var user = (await Compose.Docker("image", "inspect", "-f", "{{.Config.User}}", "orchestrator-toolgateway:local")).Trim();
        Check(user.Length > 0 && user.Split(':')[0] is not ("0" or "root"), $"the toolgateway image to name a non-root user, not '{user}'");
        Step($"toolgateway image runs as {user}");
        Step("starting the stack (docker-compose up -d)");
        await compose.RunAsync(TimeSpan.FromMinutes(5), "up", "-d");
        await WaitHealthyAsync(compose, toolGateways: 1);
        var gateway = (await compose.ContainersAsync("toolgateway")).Single();
        var running = (await Compose.Docker("exec", gateway, "id", "-u")).Trim();
        Check(running == user.Split(':')[0], $"the running gateway to be user {user}, not {running}");

        using var intake = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports["INTAKE_PORT"]}/") }.WithToken(apiToken);
        var first = gitHub.AddIssue("Typo in the README", "The title says Widgts.", [Label]);
        // The typo fixed, and a command in the sandbox (the default image: no devcontainer.json) to look at the result.
        var firstScript = llm.Script(first.Title)
            .CallTool("filesystem_read_text_file", r => new { path = $"{TypoFix.Root(r)}/README.md" })
            .Reply(TypoFix.PlanJson)
            .CallTool("filesystem_edit_file", r => new { path = $"{TypoFix.Root(r)}/README.md", edits = new[] { new { oldText = "Widgts", newText = "Widgets" } } })
            .CallTool("sandbox_run_command", _ => new { command = "read title < README.md; echo \"$title\"; for f in /sys/class/net/*; do echo $f; done" })
            .Reply("Fixed the typo in README.md.")
            .Reply(TypoFix.ApprovedReview);
        Step($"issue #{first.Number} labelled: delivering the webhook to Intake");
        (await Webhooks.DeliverAsync(intake, webhookSecret, "issues", Webhooks.Labeled(Repository, first, Label))).EnsureSuccessStatusCode();
        await PullRequestAsync(compose, gitHub, first.Number);
        var inSandbox = firstScript.Requests.SelectMany(r => r.Messages).Where(m => m.Role == "tool").Select(m => m.Content)
            .FirstOrDefault(c => c.StartsWith("exit code:", StringComparison.Ordinal)) ?? "(no run_command result)";
        Check(inSandbox.StartsWith("exit code: 0", StringComparison.Ordinal) && inSandbox.Contains("# Widgets\n/sys/class/net/lo\n", StringComparison.Ordinal),
            $"run_command in the compose stack's sandbox to read the fixed title with only a loopback interface, not:\n{inSandbox}");
        var body = gitHub.PullRequests.Single(p => p.Head == $"orchestrator/issue-{first.Number}").Body;
        Check(body.Contains("| 0 passed, 1 failed | 1 passed, 0 failed |", StringComparison.Ordinal),
            $"the pull request's verification table (the test fails on the base, passes with the change), not:\n{body}");
        Step("sandbox: run_command answered from the repository's sandbox (loopback only); verification: the test failed on the base, passes with the change");

        using var rabbit = Authorized($"http://127.0.0.1:{ports["RABBITMQ_UI_PORT"]}/", rabbitUser, rabbitPassword);
        await CheckBrokerAsync(rabbit);
        using var tracing = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports["TRACING_UI_PORT"]}/") };
        await CheckTraceAsync(intake, tracing, first.Number);

        Step("scaling toolgateway to 3 (docker-compose up -d --scale toolgateway=3)");
        await compose.RunAsync(TimeSpan.FromMinutes(5), "up", "-d", "--no-recreate", "--scale", "toolgateway=3");
        await WaitHealthyAsync(compose, toolGateways: 3);
        await Eventually.Until(() => ConsumersAsync(rabbit, "toolgateway-open-workspace"), n => n == 3, TimeSpan.FromMinutes(1),
            "three ToolGateway replicas consuming toolgateway-open-workspace", TimeSpan.FromSeconds(1));
        // Titles that do not contain one another: each names its own script.
        var more = new[] { gitHub.AddIssue("Widgts misspelt (second report)", "Widgts, still.", [Label]), gitHub.AddIssue("Title typo (third report)", "Widgts!", [Label]) };
        foreach (var issue in more)
        {
            llm.Script(issue.Title).FixTheTypo();
            (await Webhooks.DeliverAsync(intake, webhookSecret, "issues", Webhooks.Labeled(Repository, issue, Label))).EnsureSuccessStatusCode();
        }
        Step($"issues #{more[0].Number} and #{more[1].Number} labelled with three replicas");
        await Task.WhenAll(more.Select(i => PullRequestAsync(compose, gitHub, i.Number)));

        await Eventually.Until(async () => (await Compose.Docker("ps", "-aq", "--filter", $"label=org.orchestrator.deployment={deployment}")).Trim(),
            ids => ids.Length == 0, TimeSpan.FromMinutes(1), "the MCP server containers to be removed", TimeSpan.FromSeconds(1));
        Step("no MCP server container left");
        TestPaths.DeleteDirectory(work);
    }

    private static async Task WaitHealthyAsync(Compose compose, int toolGateways)
    {
        string[] expected = ["rabbitmq", "jaeger", .. Services];
        // The one-off that hands the workspaces folder to the gateway's user has done its work and exited.
        var health = await Eventually.Until(compose.HealthAsync,
            h => expected.All(s => h.Any(c => c.Service == s)) && h.Count(c => c.Service == "toolgateway") == toolGateways
                && h.All(c => c.Health is "healthy" || (c.Service == "jaeger" && c.Health == "running")
                    || (c.Service == "toolgateway-workspaces" && c.Health == "exited")),
            TimeSpan.FromMinutes(5), "every container healthy", TimeSpan.FromSeconds(2));
        Step($"healthy: {string.Join(", ", health.GroupBy(h => h.Service).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ×{g.Count()}"))}");
    }

    /// <summary>Waits for the issue's pull request (done once Publisher has labelled the issue) and checks what it holds.</summary>
    private static async Task PullRequestAsync(Compose compose, FakeGitHub gitHub, int issue)
    {
        var started = Clock.Elapsed;
        try
        {
            var labels = await Eventually.Until(() => Task.FromResult(gitHub.LabelsOf(issue)),
                l => l.Contains("orchestrator:done") || l.Contains("orchestrator:failed"), WorkItemTimeout, $"a pull request for issue #{issue}",
                TimeSpan.FromMilliseconds(250));
            Check(labels.Contains("orchestrator:done"),
                $"issue #{issue} done, but it failed:\n{string.Join("\n", gitHub.CommentsOn(issue).Select(c => c.Body))}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{await compose.RunAsync(TimeSpan.FromMinutes(1), "logs", "--no-color", "--tail", "30")}", e);
        }
        var pulls = gitHub.PullRequests.Where(p => p.Head == $"orchestrator/issue-{issue}").ToList();
        Check(pulls.Count == 1, $"one pull request for issue #{issue}, not {pulls.Count}");
        var readme = await gitHub.Git.ShowAsync($"orchestrator/issue-{issue}:README.md");
        Check(readme == TypoFix.FixedReadme, $"README.md on orchestrator/issue-{issue} is the fixed one, not:\n{readme}");
        var comments = gitHub.CommentsOn(issue);
        Check(comments.Count == 1 && comments[0].Body.Contains($"/pull/{pulls[0].Number}", StringComparison.Ordinal),
            $"one status comment on issue #{issue} naming the pull request ({comments.Count} comments)");
        Step($"issue #{issue}: pull request #{pulls[0].Number} with the README fix, status comment and labels " +
            $"{string.Join(", ", gitHub.LabelsOf(issue))} ({(Clock.Elapsed - started).TotalSeconds:0.0} s)");
    }

    /// <summary>Every service's queues have consumers, and no message went to an error queue.</summary>
    private static async Task CheckBrokerAsync(HttpClient rabbit)
    {
        var queues = await QueuesAsync(rabbit);
        var errors = queues.Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal) && q.Messages > 0).ToList();
        Check(errors.Count == 0, $"no message in an error queue: {string.Join(", ", errors.Select(q => $"{q.Name} ({q.Messages})"))}");
        var idle = queues.Where(q => !q.Name.EndsWith("_error", StringComparison.Ordinal) && !q.Name.EndsWith("_skipped", StringComparison.Ordinal)
            && q.Consumers == 0).ToList();
        Check(idle.Count == 0, $"every queue has a consumer: {string.Join(", ", idle.Select(q => q.Name))} have none");
        using var connections = JsonDocument.Parse(await rabbit.GetStringAsync("api/connections"));
        var count = connections.RootElement.GetArrayLength();
        Check(count >= Services.Length, $"a connection from each service ({count} connections)");
        Step($"management API: {queues.Count} queues, all consumed, error queues empty, {count} connections");
    }

    private static async Task<int> ConsumersAsync(HttpClient rabbit, string queue) =>
        (await QueuesAsync(rabbit)).Where(q => q.Name == queue).Select(q => q.Consumers).FirstOrDefault();

    private static async Task<List<(string Name, int Consumers, int Messages)>> QueuesAsync(HttpClient rabbit)
    {
        using var json = JsonDocument.Parse(await rabbit.GetStringAsync("api/queues?columns=name,consumers,messages"));
        return [.. json.RootElement.EnumerateArray().Select(q => (q.GetProperty("name").GetString()!,
            q.TryGetProperty("consumers", out var c) ? c.GetInt32() : 0, q.TryGetProperty("messages", out var m) ? m.GetInt32() : 0))];
    }

    /// <summary>The work item's trace id from Intake's ledger, then the dashboard's API holds spans of all four services.</summary>
    private static async Task CheckTraceAsync(HttpClient intake, HttpClient tracing, int issue)
    {
        using var page = JsonDocument.Parse(await intake.GetStringAsync("api/work-items"));
        var item = page.RootElement.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("issueNumber").GetInt32() == issue);
        var traceId = item.GetProperty("traceId").GetString() ?? throw new InvalidOperationException($"issue #{issue}'s work item has no trace id");
        var (services, operations) = await Eventually.Until(async () =>
            {
                var response = await tracing.GetAsync($"api/traces/{traceId}");
                if (response.StatusCode == HttpStatusCode.NotFound)
                    return new Trace([], []);
                using var trace = JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
                var data = trace.RootElement.GetProperty("data")[0];
                return new Trace([.. data.GetProperty("processes").EnumerateObject().Select(p => p.Value.GetProperty("serviceName").GetString()!)],
                    [.. data.GetProperty("spans").EnumerateArray().Select(s => s.GetProperty("operationName").GetString()!)]);
            },
            // The scripted conversation: six LLM turns (read, plan, edit, command, done, review), three of them tool calls.
            t => Services.All(t.Services.Contains) && t.Operations.Count(o => o.StartsWith("chat ", StringComparison.Ordinal)) == 6
                && t.Operations.Count(o => o == "call tool") == 3,
            TimeSpan.FromMinutes(1), $"trace {traceId} on the dashboard with spans of all four services, LLM turns and tool calls", TimeSpan.FromSeconds(1));
        Step($"tracing dashboard: trace {traceId} has {operations.Count} spans from {string.Join(", ", services.Order())}, " +
            $"{operations.Count(o => o.StartsWith("chat ", StringComparison.Ordinal))} LLM turns, {operations.Count(o => o == "call tool")} tool calls");
    }

    private sealed record Trace(HashSet<string> Services, List<string> Operations);

    private static HttpClient Authorized(string baseAddress, string user, string password) => new()
    {
        BaseAddress = new Uri(baseAddress),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))) },
    };

    /// <summary>
    /// The address containers reach this machine at (what host-gateway, and so host.docker.internal, resolves to): the
    /// docker0 interface's IPv4 address. The bridge network's IPAM gateway is only the fallback: on a just-started engine
    /// Docker 20.10 can report it empty.
    /// </summary>
    private static async Task<IPAddress> HostAddressAsync()
    {
        var docker0 = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .FirstOrDefault(n => n.Name == "docker0")?.GetIPProperties().UnicastAddresses
            .Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        if (docker0 is not null)
            return docker0;
        var inspected = (await Compose.Docker("network", "inspect", "bridge", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}")).Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => IPAddress.TryParse(a, out var ip) ? ip : null).FirstOrDefault(a => a?.AddressFamily == AddressFamily.InterNetwork);
        return inspected ?? throw new InvalidOperationException(
            "Cannot tell the address containers reach this machine at: there is no docker0 interface with an IPv4 address, and " +
            "`docker network inspect bridge` names no IPv4 gateway. Is the Docker engine running with its default bridge?");
    }

    private static Uri OnHost(Uri url) => new UriBuilder(url) { Host = "host.docker.internal" }.Uri;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
            throw new InvalidOperationException($"Expected {what}");
    }

    private static void Step(string what) => Console.WriteLine($"[{Clock.Elapsed.TotalSeconds,6:0.0} s] {what}");
}
