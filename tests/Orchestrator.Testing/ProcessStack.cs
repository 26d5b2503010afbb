using Orchestrator.Testing.GitHub;
using Orchestrator.Testing.Llm;
using Orchestrator.Testing.Telemetry;

namespace Orchestrator.Testing;

/// <summary>
/// The four services as their real hosts, each a process of its own (so a test can kill one with SIGKILL), on a virtual
/// host of the real broker; ToolGateway runs the filesystem MCP server in real containers; GitHub is the fake, the LLM
/// the scripted one, and the services export their spans over OTLP to a receiver in the test.
/// </summary>
public sealed class ProcessStack : IAsyncDisposable
{
    public const string Repository = "acme/widgets";
    public const string Label = "orchestrator:work-item";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The processes, by name (a ToolGateway by its replica id).</summary>
    public IReadOnlyDictionary<string, ServiceProcess> Running => _running;
    public static readonly string[] AllServices = ["Intake", "Planner", "ToolGateway", "Publisher"];
    public const string WebhookSecret = "process-stack-webhook-secret";

    /// <summary>
    /// The xunit collection of the tests that start a stack: four hosts and their containers each, so they run one after
    /// another (beside the rest of the suite) rather than a handful at once on two cores.
    /// </summary>
    public const string Collection = "Process stacks";

    private readonly Dictionary<string, ServiceProcess> _running = [];
    private readonly List<(string Key, string? Value)> _overrides = [];
    private int _replicas;

    private ProcessStack(string directory, string bare, string token, VirtualHost broker, MessageRecorder recorder, FakeGitHub gitHub,
        ScriptedLlm llm, OtlpReceiver telemetry)
    {
        Directory = directory;
        Bare = bare;
        Token = token;
        Broker = broker;
        Recorder = recorder;
        GitHub = gitHub;
        Llm = llm;
        Telemetry = telemetry;
        Deployment = $"orchestrator-test-{Guid.NewGuid().ToString("N")[..8]}";
    }

    public string Directory { get; }
    /// <summary>The repository's git data: the fake GitHub's, and what ToolGateway clones.</summary>
    public string Bare { get; }
    public string Token { get; }
    public string Deployment { get; }
    public VirtualHost Broker { get; }
    public MessageRecorder Recorder { get; }
    public FakeGitHub GitHub { get; }
    public ScriptedLlm Llm { get; }
    public OtlpReceiver Telemetry { get; }

    public ServiceProcess this[string name] => _running[name];

    public static Task<ProcessStack> StartAsync(params string[] services) => StartAsync(null, null, services);

    /// <param name="settings">Settings for every service, over the stack's own.</param>
    public static Task<ProcessStack> StartAsync(IEnumerable<(string Key, string? Value)>? settings, params string[] services) =>
        StartAsync(null, settings, services);

    /// <param name="broker">A virtual host of another broker than the shared one (a private node the test restarts).</param>
    /// <param name="settings">Settings for every service, over the stack's own.</param>
    public static async Task<ProcessStack> StartAsync(VirtualHost? broker, IEnumerable<(string Key, string? Value)>? settings, params string[] services)
    {
        var directory = TestPaths.NewTempDirectory("processes");
        var bare = GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", new Dictionary<string, string>
        {
            ["README.md"] = TypoFix.Readme,
        });
        var token = "ghp_e2e" + Guid.NewGuid().ToString("N");
        broker ??= await RabbitMqBroker.CreateVirtualHostAsync();
        var stack = new ProcessStack(directory, bare, token, broker, await MessageRecorder.StartAsync(broker.Url),
            await FakeGitHub.StartAsync(Repository, bare, token), await ScriptedLlm.StartAsync(), await OtlpReceiver.StartAsync());
        stack._overrides.AddRange(settings ?? []);
        foreach (var service in services)
            await stack.StartAsync(service);
        return stack;
    }

    /// <summary>
    /// Starts a service (again), on the same database as before, and waits until its bus is up. It is known by its name,
    /// a ToolGateway by its replica id (replica-1, replica-2…).
    /// </summary>
    /// <param name="waitForBus">False: wait only until it listens for HTTP (for a service started while the broker is down).</param>
    public async Task<ServiceProcess> StartAsync(string service, string? replicaId = null, bool waitForBus = true)
    {
        replicaId ??= service == "ToolGateway" ? $"replica-{++_replicas}" : null;
        var process = ServiceProcess.Start(service, Settings(service), replicaId);
        _running[replicaId ?? service] = process;
        if (waitForBus)
            await process.WaitUntilStartedAsync(Timeout);
        else
            await process.WaitForOutputAsync("Now listening on", Timeout);
        return process;
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would.</summary>
    public async Task KillAsync(string name)
    {
        var process = _running[name];
        process.Kill();
        await process.DisposeAsync();
        _running.Remove(name);
    }

    public IEnumerable<(string Key, string? Value)> Settings(string service)
    {
        var database = Path.Combine(Directory, $"{service.ToLowerInvariant()}.db");
        (string Key, string? Value)[] common =
        [
            ("RABBITMQ_URL", Broker.Url.ToString()),
            ("Logging:LogLevel:Default", "Information"),
            ("Logging:LogLevel:Microsoft", "Warning"),
            ("Logging:LogLevel:Microsoft.Hosting.Lifetime", "Information"),
            .. Telemetry.Settings,
        ];
        (string Key, string? Value)[] github =
        [
            ("GITHUB_API_URL", GitHub.Url.ToString()),
            ("GITHUB_TOKEN", Token),
            ("REPO_OWNER", "acme"),
            ("REPO_NAME", "widgets"),
        ];
        IEnumerable<(string Key, string? Value)> own = service switch
        {
            "Intake" => [.. common, .. github, ("DATABASE_PATH", database), ("GITHUB_POLL_INTERVAL", "00:00:01"), ("GITHUB_WEBHOOK_SECRET", WebhookSecret),
                ("GIT_CLONE_BASE_URL", Path.Combine(Directory, "repos"))],
            "Planner" => [.. common, .. Llm.Settings, ("DATABASE_PATH", database)],
            "ToolGateway" => [.. common, ("WORKSPACES_PATH", Path.Combine(Directory, "workspaces")), ("DEPLOYMENT_NAME", Deployment),
                ("MCP_LAUNCHER", "Docker"), ("CONTAINER_SWEEP_INTERVAL", "00:00:02"), .. TestCatalog.Settings([TestCatalog.Filesystem])],
            "Publisher" => [.. common, .. github, ("DATABASE_PATH", database)],
            _ => throw new ArgumentException($"No service {service}"),
        };
        var mine = PerService.GetValueOrDefault(service) ?? [];
        return [.. own.Where(s => _overrides.Concat(mine).All(o => o.Key != s.Key)), .. _overrides.Where(o => mine.All(m => m.Key != o.Key)), .. mine];
    }

    /// <summary>Settings for one service alone (by its name), over everything else: set before starting it.</summary>
    public Dictionary<string, List<(string Key, string? Value)>> PerService { get; } = [];

    /// <summary>Waits for the issue's pull request and returns it, once Publisher has also finished the status comment.</summary>
    public async Task<FakePullRequest> PullRequestForAsync(int issue)
    {
        List<FakePullRequest> pulls;
        try
        {
            pulls = await Eventually.Until(() => Task.FromResult(GitHub.PullRequests.Where(p => p.Head == $"orchestrator/issue-{issue}").ToList()),
                p => p.Count > 0 && GitHub.LabelsOf(issue).Contains("orchestrator:done"), Timeout, $"a pull request for issue #{issue}");
        }
        catch (TimeoutException e)
        {
            // What each service said last is what tells why.
            throw new TimeoutException($"{e.Message}\n{string.Join("\n", _running.Select(r => $"--- {r.Key}:\n{Tail(r.Value.Output, 40)}"))}", e);
        }
        return pulls.Count == 1 ? pulls[0] : throw new InvalidOperationException($"{pulls.Count} pull requests for issue #{issue}");
    }

    /// <summary>Tells Intake the issue was labelled, as GitHub's webhook would (rather than waiting for its next poll).</summary>
    public async Task DeliverLabeledAsync(FakeIssue issue)
    {
        using var intake = new HttpClient { BaseAddress = _running["Intake"].Address }.WithToken(TestApiTokens.Reader);
        var response = await Webhooks.DeliverAsync(intake, WebhookSecret, "issues", Webhooks.Labeled(Repository, issue, Label));
        response.EnsureSuccessStatusCode();
    }

    // The last lines worth reading: stack frames of the reconnect noise left out.
    private static string Tail(string output, int lines) => string.Join('\n', output.Split('\n')
        .Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal) && !l.TrimStart().StartsWith("---", StringComparison.Ordinal))
        .TakeLast(lines));

    public string FileOnBranch(string branch, string path) => GitRepository.Run(Bare, "show", $"{branch}:{path}");

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _running.Values.Reverse())
            await process.DisposeAsync();
        await Telemetry.DisposeAsync();
        await Llm.DisposeAsync();
        await GitHub.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        TestPaths.DeleteDirectory(Directory);
    }
}
