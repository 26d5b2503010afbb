using Orchestrator.Intake;
using Orchestrator.Planner;
using Orchestrator.Publisher;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;
using Orchestrator.ToolGateway;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// The four services, each started as its Program.cs starts it (own configuration, own DI container, own bus
/// connection), on a virtual host of the real broker, with a real git repository to clone and the real filesystem MCP
/// server from npm behind ToolGateway, and the scripted LLM the Planner talks to.
/// </summary>
public sealed class Stack : IAsyncDisposable
{
    public const string Repository = "acme/widgets";

    private Stack(string directory, VirtualHost broker, MessageRecorder recorder, ScriptedLlm llm, ServiceHost[] services)
    {
        Directory = directory;
        Broker = broker;
        Recorder = recorder;
        Llm = llm;
        (Intake, Planner, ToolGateway, Publisher) = (services[0], services[1], services[2], services[3]);
    }

    public string Directory { get; }
    public VirtualHost Broker { get; }
    public MessageRecorder Recorder { get; }

    /// <summary>The Planner's LLM: each test scripts the conversations it expects.</summary>
    public ScriptedLlm Llm { get; }
    public ServiceHost Intake { get; }
    public ServiceHost Planner { get; }
    public ServiceHost ToolGateway { get; }
    public ServiceHost Publisher { get; }
    public IEnumerable<ServiceHost> Services => [Intake, Planner, ToolGateway, Publisher];
    public string WorkspacesPath => Path.Combine(Directory, "workspaces");

    /// <param name="filesystemCommand">Overrides the filesystem MCP server's command (to make it fail to start).</param>
    public static async Task<Stack> StartAsync(string filesystemCommand = "node")
    {
        var directory = TestPaths.NewTempDirectory("stack");
        GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", new Dictionary<string, string>
        {
            ["README.md"] = "# Widgets\n",
        });
        var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var recorder = await MessageRecorder.StartAsync(broker.Url);
        var llm = await ScriptedLlm.StartAsync();

        Dictionary<string, string?> Settings(string service, params (string Key, string? Value)[] more)
        {
            var settings = new Dictionary<string, string?>
            {
                ["RABBITMQ_URL"] = broker.Url.ToString(),
                ["DATABASE_PATH"] = Path.Combine(directory, $"{service}.db"),
                ["Logging:LogLevel:Default"] = "Warning",
                ["REPOSITORIES"] = Repository,
            };
            foreach (var (key, value) in more)
                settings[key] = value;
            return settings;
        }

        var ct = TestContext.Current.CancellationToken;
        ServiceHost[] services =
        [
            await ServiceHost.StartAsync(IntakeTelemetry.Service, b => b.AddIntake(),
                Settings("intake", ("GIT_CLONE_BASE_URL", Path.Combine(directory, "repos"))), app => app.MapIntake(), ct),
            await ServiceHost.StartAsync(PlannerTelemetry.Service, b => b.AddPlanner(), Settings("planner", [.. llm.Settings]),
                app => app.MapPlanner(), ct),
            await ServiceHost.StartAsync(ToolGatewayTelemetry.Service, b => b.AddToolGateway(), Settings("toolgateway",
                ("WORKSPACES_PATH", Path.Combine(directory, "workspaces")),
                ("MCP_LAUNCHER", "Process"),
                ("MCP_SERVERS:0:Name", "filesystem"),
                ("MCP_SERVERS:0:Scope", "Workspace"),
                ("MCP_SERVERS:0:Command", filesystemCommand),
                ("MCP_SERVERS:0:Args:0", TestPaths.McpServerScript(TestPaths.FilesystemServerFolder, "@modelcontextprotocol/server-filesystem")),
                ("MCP_SERVERS:0:Args:1", "{workspace}")), cancellationToken: ct),
            await ServiceHost.StartAsync(PublisherTelemetry.Service, b => b.AddPublisher(), Settings("publisher", ("PUBLISH_DRY_RUN", "true")), cancellationToken: ct),
        ];
        return new Stack(directory, broker, recorder, llm, services);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in Services.Reverse())
            await service.DisposeAsync();
        await Llm.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
