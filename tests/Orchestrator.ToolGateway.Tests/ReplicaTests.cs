using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.Testing;
using Orchestrator.ToolGateway.Client;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>Two gateway replicas as real processes: session affinity, a replica killed outright, its containers swept.</summary>
public sealed class ReplicaTests
{
    [Fact]
    public async Task Session_calls_stay_on_their_replica_fail_with_SessionLost_when_it_dies_and_the_survivor_sweeps_its_containers()
    {
        await using var gateway = await TestGateway.StartAsync(inProcessReplica: false);
        var replicas = gateway.Caller.Services.GetRequiredService<GatewayReplicas>();
        var suffix = Guid.NewGuid().ToString("N")[..6];
        await using var first = gateway.StartReplicaProcess($"first-{suffix}", [TestCatalog.Probe]);
        await using var second = gateway.StartReplicaProcess($"second-{suffix}", [TestCatalog.Probe]);
        await Eventually.Until(() => Task.FromResult(replicas.IsAlive(first.Name) && replicas.IsAlive(second.Name)), alive => alive,
            TimeSpan.FromSeconds(60), $"both replicas to send heartbeats\n{first.Output}\n{second.Output}");

        var session = await gateway.OpenAsync();
        var (victim, survivor) = session.ReplicaAddress.AbsolutePath.Contains(first.Name, StringComparison.Ordinal) ? (first, second) : (second, first);
        Assert.Contains(victim.Name, session.ReplicaAddress.AbsolutePath);

        // Every call lands on the replica that opened the session: the other would answer SessionLost.
        for (var i = 0; i < 10; i++)
            Assert.Equal($"call {i}", await gateway.CallTextAsync(session, "probe", "echo", new { text = $"call {i}" }));
        Assert.Single(await gateway.ContainersAsync("probe", victim.Name));

        // A container of the victim that would outlive it on its own: detached, stdin open, nobody attached.
        await Docker.RunAsync("run", "--detach", "--interactive", "--rm", "--network", "none",
            "--name", $"{gateway.Deployment}-planted-{suffix}",
            "--label", $"{ContainerLabels.Deployment}={gateway.Deployment}", "--label", $"{ContainerLabels.Replica}={victim.Name}",
            TestCatalog.ProbeImage);

        var inFlight = gateway.CallAsync(session, "probe", "sleep", new { ms = 120_000 });
        await Eventually.Until(() => gateway.CallTextAsync(session, "probe", "pending"), n => n == "1", TimeSpan.FromSeconds(10), "the sleep to reach the server");
        var killed = Stopwatch.StartNew();
        victim.Kill();

        var (_, failed) = await inFlight;
        var lostAfter = killed.Elapsed;
        Assert.Equal(ToolFailureReason.SessionLost, failed?.Reason);
        Assert.True(lostAfter < TimeSpan.FromSeconds(5), $"SessionLost arrived {lostAfter.TotalSeconds:0.0} s after the kill");
        var next = Stopwatch.StartNew();
        Assert.Equal(ToolFailureReason.SessionLost, (await gateway.CallAsync(session, "probe", "echo", new { text = "anyone?" })).Failed?.Reason);
        Assert.True(next.Elapsed < TimeSpan.FromSeconds(1), "a call to a lost session waits for nothing");

        // The survivor says so once it has removed them.
        await Eventually.Until(() => Task.FromResult(survivor.Output), o => o.Contains($"of replica {victim.Name}, which is gone", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60) - killed.Elapsed, "the survivor to sweep the victim's containers");
        Assert.Empty(await gateway.ContainersAsync(replica: victim.Name));

        // The survivor carries on.
        var replacement = await gateway.OpenAsync();
        Assert.Contains(survivor.Name, replacement.ReplicaAddress.AbsolutePath);
        Assert.Equal("here", await gateway.CallTextAsync(replacement, "probe", "echo", new { text = "here" }));
    }
}
