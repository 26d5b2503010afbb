using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>
/// The replica tracker on a clock the test moves: heartbeats are missed only while they could be heard, and a replica
/// that answers is alive again.
/// </summary>
public sealed class GatewayReplicasTests
{
    private static readonly Uri Address = new("rabbitmq://localhost/test/toolgateway-replica-r1?autodelete=true");
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Fact]
    public void Three_missed_heartbeats_lose_a_replica()
    {
        var clock = new Clock();
        using var replicas = new GatewayReplicas(clock);
        replicas.Observe(new GatewayReplicaHeartbeat("r1", Address, Interval, Stopping: false));

        clock.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(replicas.IsAlive("r1"));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(replicas.IsAlive("r1"));
    }

    [Fact]
    public void While_the_heartbeat_endpoint_is_down_no_heartbeat_is_missed_and_once_it_is_back_the_count_starts_over()
    {
        var clock = new Clock();
        using var replicas = new GatewayReplicas(clock);
        replicas.Observe(new GatewayReplicaHeartbeat("r1", Address, Interval, Stopping: false));

        // The broker goes away for a minute: nothing can be heard.
        replicas.Deafened();
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(replicas.IsAlive("r1"));

        // The endpoint is back: the replica has three intervals from now.
        replicas.Hearing();
        clock.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(replicas.IsAlive("r1"));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(replicas.IsAlive("r1"));
    }

    [Fact]
    public void A_lost_replica_that_answers_is_alive_again()
    {
        var clock = new Clock();
        using var replicas = new GatewayReplicas(clock);
        replicas.Observe(new GatewayReplicaHeartbeat("r1", Address, Interval, Stopping: true));
        Assert.True(replicas.LostToken(Address).IsCancellationRequested);

        replicas.Answered(Address);

        Assert.False(replicas.LostToken(Address).IsCancellationRequested);
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
