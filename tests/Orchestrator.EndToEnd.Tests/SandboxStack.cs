using Orchestrator.Contracts;
using Orchestrator.Planner;
using Orchestrator.Publisher;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;
using Orchestrator.Testing.Llm;
using Orchestrator.ToolGateway;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// Planner, ToolGateway and Publisher as their Program.cs start them, on a virtual host of the real broker: the gateway
/// runs the default catalog's filesystem and git servers in real containers, the Planner talks to the scripted LLM, and
/// Publisher writes to the fake GitHub, whose repository (with the history a test gives it) is the one cloned.
/// </summary>
public sealed class SandboxStack : IAsyncDisposable
{
    public const string Repository = "acme/widgets";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private SandboxStack(string directory, string bare, string deployment, VirtualHost broker, MessageRecorder recorder, ScriptedLlm llm, FakeGitHub gitHub)
    {
        Directory = directory;
        Bare = bare;
        Deployment = deployment;
        Broker = broker;
        Recorder = recorder;
        Llm = llm;
        GitHub = gitHub;
    }

    public string Directory { get; }
    public string Bare { get; }
    public string Deployment { get; }
    public VirtualHost Broker { get; }
    public MessageRecorder Recorder { get; }
    public ScriptedLlm Llm { get; }
    public FakeGitHub GitHub { get; }
    public List<ServiceHost> Services { get; } = [];

    /// <summary>What the three services sent, and how large it was on the broker.</summary>
    public SentMessages Sent { get; private set; } = null!;

    /// <param name="history">The repository's commits, oldest first (its main branch is the base).</param>
    /// <param name="settings">Settings for all three services, over the stack's own.</param>
    public static Task<SandboxStack> StartAsync(Action<GitRepository.Seed> history, params (string Key, string? Value)[] settings) =>
        StartAsync(history, [TestCatalog.Filesystem, TestCatalog.Git], settings);

    /// <param name="catalog">The gateway's servers (the default catalog's filesystem and git, unless given).</param>
    public static async Task<SandboxStack> StartAsync(Action<GitRepository.Seed> history, IReadOnlyList<TestServer> catalog,
        params (string Key, string? Value)[] settings)
    {
        var directory = TestPaths.NewTempDirectory("sandbox");
        var bare = GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", history);
        var token = "ghp_sandbox" + Guid.NewGuid().ToString("N");
        var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var stack = new SandboxStack(directory, bare, $"orchestrator-test-{Guid.NewGuid().ToString("N")[..8]}", broker,
            await MessageRecorder.StartAsync(broker.Url), await ScriptedLlm.StartAsync(), await FakeGitHub.StartAsync(Repository, bare, token));

        Dictionary<string, string?> Settings(string service, IEnumerable<(string Key, string? Value)> own)
        {
            var all = new Dictionary<string, string?>
            {
                ["RABBITMQ_URL"] = broker.Url.ToString(),
                ["DATABASE_PATH"] = Path.Combine(directory, $"{service}.db"),
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in own.Concat(settings))
                all[key] = value;
            return all;
        }

        var ct = TestContext.Current.CancellationToken;
        stack.Services.Add(await ServiceHost.StartAsync(ToolGatewayTelemetry.Service, b => b.AddToolGateway(), Settings("toolgateway",
            [("WORKSPACES_PATH", Path.Combine(directory, "workspaces")), ("DEPLOYMENT_NAME", stack.Deployment), ("MCP_LAUNCHER", "Docker"),
             .. TestCatalog.Settings(catalog)]), cancellationToken: ct));
        stack.Services.Add(await ServiceHost.StartAsync(PlannerTelemetry.Service, b => b.AddPlanner(), Settings("planner",
            [.. stack.Llm.Settings, ("LLM_REQUEST_TIMEOUT", "00:00:30")]), cancellationToken: ct));
        stack.Services.Add(await ServiceHost.StartAsync(PublisherTelemetry.Service, b => b.AddPublisher(), Settings("publisher",
            [("GITHUB_API_URL", stack.GitHub.Url.ToString()), ("GITHUB_TOKEN", token), ("REPO_OWNER", "acme"), ("REPO_NAME", "widgets")]),
            cancellationToken: ct));
        stack.Sent = SentMessages.Watch([.. stack.Services]);
        return stack;
    }

    /// <summary>An issue on the fake GitHub, accepted as Intake would accept it; the LLM script for it mentions its title.</summary>
    public async Task<(Guid Id, int Issue)> SubmitAsync(string title, string body = "Please.")
    {
        var issue = GitHub.AddIssue(title, body, ["orchestrator:work-item"]).Number;
        var id = Guid.NewGuid();
        await Recorder.Publish(new WorkItemAccepted(id, Repository, issue, title, body, ["orchestrator:work-item"], "octocat", "main", Bare));
        return (id, issue);
    }

    public Task<T> WaitFor<T>(Guid id) where T : class =>
        Recorder.WaitFor<T>(m => (Guid)typeof(T).GetProperty("CorrelationId")!.GetValue(m)! == id, Timeout);

    public Task<IReadOnlyList<string>> ContainersAsync() => Docker.ContainersAsync(Deployment);

    public async ValueTask DisposeAsync()
    {
        foreach (var service in Enumerable.Reverse(Services))
            await service.DisposeAsync();
        await GitHub.DisposeAsync();
        await Llm.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        TestPaths.DeleteDirectory(Directory);
    }
}
