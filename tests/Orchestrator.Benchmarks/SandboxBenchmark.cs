using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;
using Orchestrator.Testing;
using Orchestrator.ToolGateway;
using Orchestrator.ToolGateway.Client;
using static Orchestrator.Benchmarks.Figures;

namespace Orchestrator.Benchmarks;

/// <summary>A request with no work behind it: the broker's own round trip, for reading the gateway's figures as ratios.</summary>
public record BenchPing(Guid CorrelationId);

public record BenchPong(Guid CorrelationId);

public sealed class BenchPingConsumer : IConsumer<BenchPing>
{
    public Task Consume(ConsumeContext<BenchPing> context) => context.RespondAsync(new BenchPong(context.Message.CorrelationId));
}

/// <summary>
/// The sandbox: how long from OpenWorkspace to the first run_command answering (the image cached, as for every work item
/// after a repository's first), what a command costs through the gateway over the same <c>docker exec</c> run directly,
/// and the broker's own request/response round trip in the same run.
/// </summary>
public static class SandboxBenchmark
{
    private const int Openings = 10;
    private const int Commands = 200;
    private const int Warmup = 20;
    private const int Pings = 2000;

    public static async Task<int> RunAsync()
    {
        var directory = TestPaths.NewTempDirectory("bench-sandbox");
        var cloneUrl = GitRepository.CreateBare(Path.Combine(directory, "repos"), "acme/widgets", "main",
            seed => NodeProject.Write(seed).Write(".devcontainer/Dockerfile", NodeProject.Dockerfile($"bench-{Guid.NewGuid():N}")).Commit("Widgets"));
        await using var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var deployment = $"orchestrator-bench-{Guid.NewGuid().ToString("N")[..8]}";
        var settings = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.Url.ToString(),
            ["WORKSPACES_PATH"] = Path.Combine(directory, "workspaces"),
            ["DEPLOYMENT_NAME"] = deployment,
            ["MCP_LAUNCHER"] = "Docker",
            ["SANDBOX_DEFAULT_IMAGE"] = TestCatalog.NodeImage,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestCatalog.Settings([TestCatalog.Filesystem, TestCatalog.Sandbox]))
            settings[key] = value;
        await using var gateway = await ServiceHost.StartAsync(ToolGatewayTelemetry.Service, b => b.AddToolGateway(), settings);
        await using var caller = await ServiceHost.StartAsync("BenchCaller", b =>
        {
            b.Services.AddToolGatewayClient(b.Configuration);
            b.AddOrchestratorBus(bus =>
            {
                bus.AddGatewayReplicaHeartbeats();
                bus.AddConsumer<BenchPingConsumer>();
                bus.AddRequestClient<BenchPing>();
            });
        }, new Dictionary<string, string?> { ["RABBITMQ_URL"] = broker.Url.ToString(), ["Logging:LogLevel:Default"] = "Warning" });
        await using var scope = caller.Services.CreateAsyncScope();
        var client = scope.ServiceProvider.GetRequiredService<ToolGatewayClient>();
        var ping = scope.ServiceProvider.GetRequiredService<IRequestClient<BenchPing>>();
        Console.WriteLine($"# sandbox benchmark: {Environment.ProcessorCount} cores, a Node repository whose devcontainer.json builds on a local image");

        OpenWorkspace Request() => new(Guid.NewGuid(), cloneUrl, "main", "orchestrator/bench", "acme/widgets");
        var trueCommand = JsonSerializer.Serialize(new { command = "true" });
        async Task<TimeSpan> FirstCommandAsync()
        {
            var started = Stopwatch.GetTimestamp();
            var session = await client.OpenWorkspaceAsync(Request(), CancellationToken.None);
            var (completed, failed) = await client.CallToolAsync(session, "sandbox", "run_command", trueCommand, CancellationToken.None);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (completed is null || completed.IsError)
                throw new InvalidOperationException($"run_command failed: {failed?.Message}{completed?.Content[0].Text}");
            await client.CloseWorkspaceAsync(session, CancellationToken.None);
            return elapsed;
        }

        // The repository's first work item builds its image; every later one starts from the cache.
        Print("sandbox_ready_first_build_ms", (await FirstCommandAsync()).TotalMilliseconds);
        var ready = new List<double>();
        for (var i = 0; i < Openings; i++)
            ready.Add((await FirstCommandAsync()).TotalMilliseconds);
        Print("sandbox_ready_p50_ms", Percentile(ready, 50));
        Print("sandbox_ready_p95_ms", Percentile(ready, 95));

        var open = await client.OpenWorkspaceAsync(Request(), CancellationToken.None);
        var container = (await Docker.ContainersAsync(deployment, server: "sandbox", session: open.SessionId)).Single();
        var direct = await TimeAsync(Commands, Warmup, async () =>
        {
            var result = await Docker.RunAsync("exec", "--workdir", "/workspace", container, "/bin/sh", "-c", "true");
            GC.KeepAlive(result);
        });
        var through = await TimeAsync(Commands, Warmup, async () =>
        {
            var (completed, _) = await client.CallToolAsync(open, "sandbox", "run_command", trueCommand, CancellationToken.None);
            if (completed is null || completed.IsError)
                throw new InvalidOperationException("run_command true failed");
        });
        Print("docker_exec_direct_p50_ms", Percentile(direct, 50));
        Print("run_command_p50_ms", Percentile(through, 50));
        Print("run_command_overhead_p50_ms", Percentile(through, 50) - Percentile(direct, 50));
        await client.CloseWorkspaceAsync(open, CancellationToken.None);

        var rtt = await TimeAsync(Pings, Warmup * 10, () => ping.GetResponse<BenchPong>(new BenchPing(Guid.NewGuid())));
        var brokerRtt = Percentile(rtt, 50);
        Print("broker_rtt_p50_ms", brokerRtt);
        Print("run_command_overhead_in_broker_rtts", (Percentile(through, 50) - Percentile(direct, 50)) / brokerRtt);
        Print("sandbox_ready_in_broker_rtts", Percentile(ready, 50) / brokerRtt);
        TestPaths.DeleteDirectory(directory);
        return 0;
    }
}
