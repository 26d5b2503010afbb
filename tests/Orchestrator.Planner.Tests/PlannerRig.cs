using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orchestrator.Contracts;
using Orchestrator.Planner.Api;
using Orchestrator.Planner.Runs;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;
using Orchestrator.ToolGateway;

namespace Orchestrator.Planner.Tests;

/// <summary>
/// A Planner as its Program.cs starts it, talking to the scripted LLM over HTTP and to a real ToolGateway over a virtual
/// host of the real broker; the gateway runs the real filesystem MCP server in Docker containers of a deployment of its
/// own, on clones of a real git repository.
/// </summary>
public sealed class PlannerRig : IAsyncDisposable
{
    public const string Repository = "acme/widgets";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly Dictionary<string, string?> _plannerSettings;

    private PlannerRig(string directory, string deployment, VirtualHost broker, MessageRecorder recorder, ScriptedLlm llm, ServiceHost gateway,
        Dictionary<string, string?> plannerSettings)
    {
        Directory = directory;
        Deployment = deployment;
        Broker = broker;
        Recorder = recorder;
        Llm = llm;
        Gateway = gateway;
        _plannerSettings = plannerSettings;
    }

    public string Directory { get; }
    public string Deployment { get; }
    public VirtualHost Broker { get; }
    public MessageRecorder Recorder { get; }
    public ScriptedLlm Llm { get; }
    public ServiceHost Gateway { get; }
    public ServiceHost Planner { get; private set; } = null!;
    public string CloneUrl => Path.Combine(Directory, "repos", Repository + ".git");

    public static Task<PlannerRig> StartAsync(params (string Key, string? Value)[] plannerSettings) =>
        StartAsync([TestCatalog.Filesystem], [], plannerSettings);

    /// <param name="catalog">The gateway's MCP servers (the filesystem server alone, by default).</param>
    public static Task<PlannerRig> StartAsync(
        IReadOnlyList<TestServer> catalog, IEnumerable<(string Key, string? Value)> gatewaySettings, params (string Key, string? Value)[] plannerSettings) =>
        StartAsync(catalog, gatewaySettings, plannerInProcess: true, plannerSettings);

    /// <param name="plannerInProcess">False: no Planner yet; the test starts one (<see cref="StartPlannerProcess"/>, <see cref="StartPlannerAsync"/>).</param>
    public static async Task<PlannerRig> StartAsync(IReadOnlyList<TestServer> catalog, IEnumerable<(string Key, string? Value)> gatewaySettings,
        bool plannerInProcess, params (string Key, string? Value)[] plannerSettings)
    {
        var directory = TestPaths.NewTempDirectory("planner");
        GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", new Dictionary<string, string>
        {
            ["README.md"] = TypoFix.Readme,
            ["src/widget.txt"] = "a widget\n",
        });
        var deployment = $"orchestrator-test-{Guid.NewGuid().ToString("N")[..8]}";
        var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var recorder = await MessageRecorder.StartAsync(broker.Url);
        var llm = await ScriptedLlm.StartAsync();
        var ct = TestContext.Current.CancellationToken;

        var gatewayConfiguration = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.Url.ToString(),
            ["WORKSPACES_PATH"] = Path.Combine(directory, "workspaces"),
            ["DEPLOYMENT_NAME"] = deployment,
            ["MCP_LAUNCHER"] = "Docker",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestCatalog.Settings(catalog).Concat(gatewaySettings))
            gatewayConfiguration[key] = value;
        var gateway = await ServiceHost.StartAsync(ToolGatewayTelemetry.Service, b => b.AddToolGateway(), gatewayConfiguration, cancellationToken: ct);

        var settings = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.Url.ToString(),
            ["DATABASE_PATH"] = Path.Combine(directory, "planner.db"),
            ["LLM_REQUEST_TIMEOUT"] = "00:00:30",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in llm.Settings.Concat(plannerSettings))
            settings[key] = value;
        var rig = new PlannerRig(directory, deployment, broker, recorder, llm, gateway, settings);
        if (plannerInProcess)
            await rig.StartPlannerAsync();
        return rig;
    }

    /// <summary>The Planner in this process, on the rig's database (which a Planner before it may have left runs in).</summary>
    public async Task StartPlannerAsync() =>
        Planner = await ServiceHost.StartAsync(PlannerTelemetry.Service, b => b.AddPlanner(), _plannerSettings, app => app.MapPlanner(),
            TestContext.Current.CancellationToken);

    /// <summary>The Planner as a process of its own (which a test can kill), on the rig's database, logging what it starts.</summary>
    public ServiceProcess StartPlannerProcess() =>
        ServiceProcess.Start(PlannerTelemetry.Service, _plannerSettings.Where(s => !s.Key.StartsWith("Logging:", StringComparison.Ordinal)).Select(s => (s.Key, s.Value)));

    /// <summary>Publishes a work item as Intake would, for an issue titled <paramref name="title"/> (which its LLM script mentions).</summary>
    public async Task<Guid> SubmitAsync(string title, string body = "Please fix it.", int issueNumber = 7)
    {
        var id = Guid.NewGuid();
        await Recorder.Publish(new WorkItemAccepted(id, Repository, issueNumber, title, body, [], "octocat", "main", CloneUrl));
        return id;
    }

    public async Task<RunView> RunAsync(Guid id) =>
        (await Planner.Http.GetFromJsonAsync<RunView>($"/api/runs/{id}", Json, TestContext.Current.CancellationToken))!;

    /// <summary>Waits until the Planner's run for the work item is in <paramref name="status"/> (it is recorded just after the message that ends it).</summary>
    public async Task<RunView> RunAsync(Guid id, RunStatus status) =>
        (await Eventually.Until(async () =>
        {
            var response = await Planner.Http.GetAsync($"/api/runs/{id}", TestContext.Current.CancellationToken);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<RunView>(Json, TestContext.Current.CancellationToken) : null;
        }, run => run?.Status == status, Timeout, $"the run to be {status}"))!;

    public Task<string> RunJsonAsync(Guid id) => Planner.Http.GetStringAsync($"/api/runs/{id}", TestContext.Current.CancellationToken);

    public Task<IReadOnlyList<string>> ContainersAsync() => Docker.ContainersAsync(Deployment);

    public Task<T> WaitFor<T>(Guid id, Func<T, bool>? match = null) where T : class =>
        Recorder.WaitFor<T>(m => (Guid)typeof(T).GetProperty("CorrelationId")!.GetValue(m)! == id && (match?.Invoke(m) ?? true), Timeout);

    /// <summary>Waits until the deployment has no container left: every workspace the Planner opened was closed.</summary>
    public Task NoContainersLeftAsync() =>
        Eventually.Until(ContainersAsync, c => c.Count == 0, Timeout, "the workspace's containers to be removed");

    public async ValueTask DisposeAsync()
    {
        if (Planner is not null)
            await Planner.DisposeAsync();
        await Gateway.DisposeAsync();
        await Llm.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        TestPaths.DeleteDirectory(Directory);
    }
}
