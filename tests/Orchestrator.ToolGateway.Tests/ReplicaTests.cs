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

    [Fact]
    public async Task A_replica_restarted_with_work_queued_opens_every_workspace_with_all_its_servers_and_sweeps_only_what_its_last_life_left()
    {
        await using var gateway = await TestGateway.StartAsync(inProcessReplica: false);
        var replicas = gateway.Caller.Services.GetRequiredService<GatewayReplicas>();
        var id = $"restarted-{Guid.NewGuid().ToString("N")[..6]}";
        TestServer[] catalog = [TestCatalog.Filesystem, TestCatalog.Git, TestCatalog.Probe];
        (string, string?)[] settings = [("CONTAINER_SWEEP_INTERVAL", "00:00:01"), ("REPLICA_HEARTBEAT_INTERVAL", "00:00:01")];

        // Its first life ends in a crash. Its containers end with it (their input closes), but one that would not: detached,
        // stdin open, nobody attached, labelled with the replica and the life it came from.
        var first = gateway.StartReplicaProcess(id, catalog, settings);
        await first.WaitUntilStartedAsync(TimeSpan.FromSeconds(60));
        var earlier = await gateway.OpenAsync();
        first.Kill();
        await first.DisposeAsync();
        await Docker.RunAsync("run", "--detach", "--interactive", "--rm", "--network", "none", "--name", $"{gateway.Deployment}-planted-{id}",
            "--label", $"{ContainerLabels.Deployment}={gateway.Deployment}", "--label", $"{ContainerLabels.Replica}={id}",
            "--label", $"{ContainerLabels.Instance}=earlier-life", TestCatalog.ProbeImage);

        // Work queued for it while it is down.
        var opening = Enumerable.Range(0, 4).Select(_ => gateway.OpenAsync()).ToList();
        // (Five, when the first life died between answering its open and acknowledging it: the broker gives it again.)
        await Eventually.Until(gateway.Broker.QueuesAsync, q => q.Any(x => x.Name == "toolgateway-open-workspace" && x.Messages >= 4),
            TimeSpan.FromSeconds(60), "four workspace requests queued");

        // Its second life, under the same id, serves them at once, while its sweeps run every second.
        await using var second = gateway.StartReplicaProcess(id, catalog, settings);
        var sessions = await Task.WhenAll(opening);
        await second.WaitForOutputAsync($"Removed 1 containers an earlier process of replica {id} left", TimeSpan.FromSeconds(60));
        await Eventually.Until(() => Task.FromResult(replicas.IsAlive(id)), alive => alive, TimeSpan.FromSeconds(30), "the replica's heartbeats");

        Assert.Empty(await gateway.ContainersAsync(session: earlier.SessionId));
        foreach (var session in sessions)
        {
            Assert.Empty(session.Unavailable ?? []);
            Assert.Equal(["filesystem", "git", "probe"], session.Tools.Select(t => t.Server).Distinct().Order());
            Assert.Equal(3, (await gateway.ContainersAsync(session: session.SessionId)).Count);
        }
        // Sweeps later, every workspace still works with each of its servers.
        foreach (var session in sessions)
        {
            Assert.Equal("still here", await gateway.CallTextAsync(session, "probe", "echo", new { text = "still here" }));
            Assert.Contains("orchestrator/test", await gateway.CallTextAsync(session, "git", "git_status", new { path = "/workspace" }));
            await gateway.CallTextAsync(session, "filesystem", "list_directory", new { path = "/workspace" });
            Assert.Equal(3, (await gateway.ContainersAsync(session: session.SessionId)).Count);
        }
    }
}
