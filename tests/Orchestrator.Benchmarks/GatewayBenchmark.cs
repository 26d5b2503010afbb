using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;
using Orchestrator.Testing;
using Orchestrator.ToolGateway;
using Orchestrator.ToolGateway.Client;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Servers;
using static Orchestrator.Benchmarks.Figures;

namespace Orchestrator.Benchmarks;

/// <summary>
/// ToolGateway's cost over calling an MCP server directly, its throughput through one replica, how fast a server
/// container starts and how fast a closed session's containers are gone. The server is the test probe (a trivial echo,
/// so the figures are the gateway's and the transport's, not the tool's), in a container with the catalog's hardening.
/// </summary>
public static class GatewayBenchmark
{
    private const string Image = "orchestrator-test/mcp-probe:1";
    private const int SequentialCalls = 2000;
    private const int Warmup = 200;
    private const int InFlight = 32;
    private static readonly TimeSpan ThroughputWindow = TimeSpan.FromSeconds(10);
    private const int ColdStarts = 20;
    private const int Closes = 10;

    public static async Task<int> RunAsync()
    {
        var directory = TestPaths.NewTempDirectory("bench-gateway");
        GitRepository.CreateBare(Path.Combine(directory, "repos"), "acme/widgets", "main", new Dictionary<string, string> { ["README.md"] = "#\n" });
        var cloneUrl = Path.Combine(directory, "repos", "acme/widgets.git");
        await using var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var deployment = $"orchestrator-bench-{Guid.NewGuid().ToString("N")[..8]}";
        await using var gateway = await ServiceHost.StartAsync(ToolGatewayTelemetry.Service, b => b.AddToolGateway(), new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.Url.ToString(),
            ["WORKSPACES_PATH"] = Path.Combine(directory, "workspaces"),
            ["DEPLOYMENT_NAME"] = deployment,
            ["MCP_LAUNCHER"] = "Docker",
            ["MCP_SERVERS:0:Name"] = "probe",
            ["MCP_SERVERS:0:Scope"] = "Workspace",
            ["MCP_SERVERS:0:Image"] = Image,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await using var caller = await ServiceHost.StartAsync("BenchCaller", b =>
        {
            b.Services.AddToolGatewayClient(b.Configuration);
            b.AddOrchestratorBus(bus => bus.AddGatewayReplicaHeartbeats());
        }, new Dictionary<string, string?> { ["RABBITMQ_URL"] = broker.Url.ToString(), ["Logging:LogLevel:Default"] = "Warning" });
        await using var scope = caller.Services.CreateAsyncScope();
        var client = scope.ServiceProvider.GetRequiredService<ToolGatewayClient>();

        Console.WriteLine($"# gateway benchmark: {Environment.ProcessorCount} cores, probe echo in a hardened container, RabbitMQ on this machine");

        // Direct: the same container, the same stdio client, no broker.
        var launcher = gateway.Services.GetRequiredService<IServerLauncher>();
        var secrets = gateway.Services.GetRequiredService<ServerSecrets>();
        var loggers = gateway.Services.GetRequiredService<ILoggerFactory>();
        var definition = new ToolGateway.Catalog.McpServerDefinition { Name = "probe", Image = Image, Scope = ToolGateway.Catalog.ServerScope.Shared };
        var launch = await launcher.PrepareAsync(definition, ServerPlacement.Shared, CancellationToken.None);
        await using (var direct = await McpServerInstance.StartAsync(launch, loggers, secrets, 1024 * 1024, CancellationToken.None))
        {
            var arguments = new Dictionary<string, object?> { ["text"] = "ping" };
            var directSample = await TimeAsync(SequentialCalls, Warmup, () => direct.CallAsync("echo", arguments, CancellationToken.None));
            Print("direct_call_p50_ms", Percentile(directSample, 50));

            var session = await client.OpenWorkspaceAsync(new OpenWorkspace(Guid.NewGuid(), cloneUrl, "main", "bench"), CancellationToken.None);
            var json = JsonSerializer.Serialize(new { text = "ping" });
            async Task Call()
            {
                var (completed, failed) = await client.CallToolAsync(session, "probe", "echo", json, CancellationToken.None);
                if (completed is null)
                    throw new InvalidOperationException($"call failed: {failed?.Reason} {failed?.Message}");
            }
            var gatewaySample = await TimeAsync(SequentialCalls, Warmup, Call);
            Print("gateway_call_p50_ms", Percentile(gatewaySample, 50));
            Print("gateway_call_p99_ms", Percentile(gatewaySample, 99));
            Print("gateway_overhead_p50_ms", Percentile(gatewaySample, 50) - Percentile(directSample, 50));

            var calls = 0;
            var window = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, InFlight).Select(async _ =>
            {
                while (window.Elapsed < ThroughputWindow)
                {
                    await Call();
                    Interlocked.Increment(ref calls);
                }
            }));
            Print("gateway_calls_per_s", calls / window.Elapsed.TotalSeconds);
            await client.CloseWorkspaceAsync(session, CancellationToken.None);
        }
        await launcher.RemoveAsync(launch);

        // Cold start: container start, initialize and tools/list, with the image present.
        var coldStarts = new List<double>();
        for (var i = 0; i < ColdStarts; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var cold = await launcher.PrepareAsync(definition, ServerPlacement.Shared, CancellationToken.None);
            var instance = await McpServerInstance.StartAsync(cold, loggers, secrets, 1024 * 1024, CancellationToken.None);
            coldStarts.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            await Task.WhenAll(launcher.RemoveAsync(cold), instance.DisposeAsync().AsTask());
        }
        Print("cold_start_p50_ms", Percentile(coldStarts, 50));
        Print("cold_start_p95_ms", Percentile(coldStarts, 95));

        // Removal: CloseWorkspace sent → no container of the session left in the engine.
        var removals = new List<double>();
        for (var i = 0; i < Closes; i++)
        {
            var session = await client.OpenWorkspaceAsync(new OpenWorkspace(Guid.NewGuid(), cloneUrl, "main", "bench"), CancellationToken.None);
            var started = Stopwatch.GetTimestamp();
            await client.CloseWorkspaceAsync(session, CancellationToken.None);
            while ((await SessionContainersAsync(deployment, session.SessionId)) > 0)
                await Task.Delay(5);
            removals.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Print("container_removal_ms", Percentile(removals, 50));
        Print("container_removal_max_ms", removals.Max());
        return 0;
    }

    private static async Task<int> SessionContainersAsync(string deployment, Guid session)
    {
        var docker = new ProcessStartInfo("docker", ["ps", "--quiet", "--filter", $"label={ContainerLabels.Deployment}={deployment}",
            "--filter", $"label={ContainerLabels.Session}={session}"]) { RedirectStandardOutput = true };
        using var process = Process.Start(docker)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
