using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;
using Orchestrator.Testing;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>
/// A ToolGateway in this process on its own virtual host of the real broker, launching real containers on the real
/// engine under a deployment name of its own, and a caller that reaches it over RabbitMQ with the real
/// <see cref="ToolGatewayClient"/>, as Planner does.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    public const string Repository = "acme/widgets";

    private TestGateway(string directory, string deployment, VirtualHost broker, ServiceHost caller, MessageRecorder recorder)
    {
        Directory = directory;
        Deployment = deployment;
        Broker = broker;
        Caller = caller;
        Recorder = recorder;
    }

    public string Directory { get; }
    public string Deployment { get; }
    public VirtualHost Broker { get; }
    public ServiceHost Caller { get; }
    public MessageRecorder Recorder { get; }
    public List<ServiceHost> Replicas { get; } = [];
    public ServiceHost Gateway => Replicas[0];
    public string WorkspacesPath => Path.Combine(Directory, "workspaces");
    public string CloneUrl => Path.Combine(Directory, "repos", Repository + ".git");

    /// <summary>Replaces the repository sessions clone with one whose history <paramref name="history"/> writes.</summary>
    public void ReplaceRepository(Action<GitRepository.Seed> history)
    {
        System.IO.Directory.Delete(CloneUrl, recursive: true);
        GitRepository.CreateBare(Path.Combine(Directory, "repos"), Repository, "main", history);
    }

    /// <summary>The session's workspace, as the gateway sees it (the servers see it at /workspace).</summary>
    public string WorkspaceOf(WorkspaceOpened session) => Path.Combine(WorkspacesPath, session.SessionId.ToString("N"), "workspace");

    /// <summary>The session's folder: the workspace, and the gateway's own repository beside it.</summary>
    public string SessionFolderOf(WorkspaceOpened session) => Path.Combine(WorkspacesPath, session.SessionId.ToString("N"));

    public static Task<TestGateway> StartAsync(IEnumerable<TestServer>? catalog = null, params (string Key, string? Value)[] settings) =>
        StartAsync(inProcessReplica: true, catalog, settings);

    public static async Task<TestGateway> StartAsync(bool inProcessReplica, IEnumerable<TestServer>? catalog = null, params (string Key, string? Value)[] settings)
    {
        var directory = TestPaths.NewTempDirectory("gateway");
        GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", new Dictionary<string, string>
        {
            ["README.md"] = "# Widgets\n",
        });
        var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var recorder = await MessageRecorder.StartAsync(broker.Url);
        var caller = await ServiceHost.StartAsync("TestCaller", b =>
        {
            b.Services.AddToolGatewayClient(b.Configuration);
            b.AddOrchestratorBus(bus => bus.AddGatewayReplicaHeartbeats());
        }, new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.Url.ToString(),
            ["TOOL_REQUEST_TIMEOUT"] = "00:00:30",
            ["Logging:LogLevel:Default"] = "Warning",
        }, cancellationToken: TestContext.Current.CancellationToken);
        var gateway = new TestGateway(directory, $"orchestrator-test-{Guid.NewGuid().ToString("N")[..8]}", broker, caller, recorder);
        if (inProcessReplica)
            await gateway.AddReplicaAsync(catalog ?? TestCatalog.Standard, settings);
        return gateway;
    }

    /// <summary>A replica in a process of its own, on the same broker, deployment and workspaces folder.</summary>
    public ServiceProcess StartReplicaProcess(string replicaId, IEnumerable<TestServer> catalog, params (string Key, string? Value)[] settings) =>
        ServiceProcess.Start("ToolGateway", new (string Key, string? Value)[]
        {
            ("RABBITMQ_URL", Broker.Url.ToString()),
            ("WORKSPACES_PATH", WorkspacesPath),
            ("DEPLOYMENT_NAME", Deployment),
            ("MCP_LAUNCHER", "Docker"),
        }.Concat(TestCatalog.Settings(catalog)).Concat(settings), replicaId);

    /// <summary>Starts one more replica (in this process) on the same broker, deployment and workspaces folder.</summary>
    public async Task<ServiceHost> AddReplicaAsync(IEnumerable<TestServer> catalog, params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = Broker.Url.ToString(),
            ["WORKSPACES_PATH"] = WorkspacesPath,
            ["DEPLOYMENT_NAME"] = Deployment,
            ["REPLICA_ID"] = $"replica-{Replicas.Count + 1}-{Guid.NewGuid().ToString("N")[..6]}",
            ["MCP_LAUNCHER"] = "Docker",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestCatalog.Settings(catalog).Concat(settings))
            all[key] = value;
        var replica = await ServiceHost.StartAsync(ToolGatewayTelemetry.Service, b => b.AddToolGateway(), all,
            cancellationToken: TestContext.Current.CancellationToken);
        Replicas.Add(replica);
        return replica;
    }

    public async Task<T> WithClientAsync<T>(Func<ToolGatewayClient, Task<T>> use)
    {
        await using var scope = Caller.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<ToolGatewayClient>());
    }

    public Task<WorkspaceOpened> OpenAsync(Guid? correlationId = null) =>
        WithClientAsync(c => c.OpenWorkspaceAsync(
            new OpenWorkspace(correlationId ?? Guid.NewGuid(), CloneUrl, "main", "orchestrator/test", Repository), TestContext.Current.CancellationToken));

    public Task<(ToolCallCompleted? Completed, ToolCallFailed? Failed)> CallAsync(WorkspaceOpened session, string server, string tool, object? arguments = null) =>
        WithClientAsync(c => c.CallToolAsync(session, server, tool, JsonSerializer.Serialize(arguments ?? new { }), TestContext.Current.CancellationToken));

    /// <summary>Calls a tool that must succeed, and returns its text.</summary>
    public async Task<string> CallTextAsync(WorkspaceOpened session, string server, string tool, object? arguments = null)
    {
        var (completed, failed) = await CallAsync(session, server, tool, arguments);
        Assert.True(completed is not null, $"{server}.{tool} failed: {failed?.Reason} {failed?.Message}");
        Assert.False(completed.IsError, $"{server}.{tool} answered with an error: {string.Join(" ", completed.Content.Select(c => c.Text))}");
        return string.Join("\n", completed.Content.Select(c => c.Text));
    }

    public Task<IReadOnlyList<string>> ContainersAsync(string? server = null, string? replica = null, Guid? session = null) =>
        Docker.ContainersAsync(Deployment, server, replica, session);

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Enumerable.Reverse(Replicas))
            await replica.DisposeAsync();
        await Caller.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        TestPaths.DeleteDirectory(Directory);
    }
}
