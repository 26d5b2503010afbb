using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Testing;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>A server that answers with far more than a message may hold.</summary>
public sealed class ToolResultLimitTests
{
    [Fact]
    public async Task A_50_MB_tool_result_arrives_cut_with_a_marker_and_the_gateway_never_holds_it()
    {
        const int bytes = 50_000_000;
        await using var gateway = await TestGateway.StartAsync(inProcessReplica: false);
        var replicas = gateway.Caller.Services.GetRequiredService<GatewayReplicas>();
        await using var replica = gateway.StartReplicaProcess($"big-{Guid.NewGuid().ToString("N")[..6]}", [TestCatalog.Probe]);
        await Eventually.Until(() => Task.FromResult(replicas.IsAlive(replica.Name)), alive => alive, TimeSpan.FromSeconds(60),
            $"the replica to send heartbeats\n{replica.Output}");
        var session = await gateway.OpenAsync();
        await gateway.CallTextAsync(session, "probe", "echo", new { text = "warm" });
        var before = replica.PeakResidentMegabytes();

        var text = await gateway.CallTextAsync(session, "probe", "big", new { bytes });

        var peak = replica.PeakResidentMegabytes();
        Assert.StartsWith("BEGIN xxxx", text);
        Assert.DoesNotContain("END", text);
        Assert.Contains("[… cut by ToolGateway: the server's answer was 50,000,0", text);
        Assert.Contains("bytes; at most 1,048,576 are passed on (TOOL_RESULT_MAX_BYTES)]", text);
        Assert.True(text.Length < 1024 * 1024, $"{text.Length:N0} characters arrived");
        // Holding the answer would take 50 MB as bytes and 100 MB more as a string; the gateway's peak grew by far less.
        Assert.True(peak - before < 40, $"the gateway's peak resident memory grew by {peak - before:0.0} MiB ({before:0.0} → {peak:0.0})");
        // The server's connection goes on.
        Assert.Equal("after", await gateway.CallTextAsync(session, "probe", "echo", new { text = "after" }));
    }
}
