using System.Collections.Concurrent;
using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.ToolGateway.Client;

/// <summary>
/// Which ToolGateway replicas are alive, from their heartbeats. A replica is lost when it says it is stopping or when
/// three of its heartbeats are missing; a replica never heard of counts from the moment it is first asked about.
/// </summary>
/// <remarks>
/// Heartbeats count as missing only while this instance can hear them: while its heartbeat endpoint is down (the broker
/// went away, or the connection to it) no replica becomes overdue, and once the endpoint is back each replica has three
/// intervals from then. Otherwise a broker restart would lose every session (and make the gateway replicas sweep each
/// other's containers), and the replicas would stay lost for as long as this instance's heartbeat endpoint took to
/// reconnect (MassTransit retries each endpoint on its own, up to 30 s apart).
/// </remarks>
public sealed class GatewayReplicas : IDisposable
{
    private const int MissedHeartbeats = 3;
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ScanInterval = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<Uri, Replica> _byAddress = new();
    private readonly ConcurrentDictionary<string, Replica> _byId = new();
    private readonly ConcurrentDictionary<string, Replica> _byInstance = new();
    private readonly TimeProvider _time;
    private readonly ITimer _scan;
    private volatile bool _deaf;
    private long _hearingSinceTicks;

    public GatewayReplicas(TimeProvider time)
    {
        _time = time;
        _scan = time.CreateTimer(_ => Scan(), null, ScanInterval, ScanInterval);
    }

    public void Observe(GatewayReplicaHeartbeat heartbeat)
    {
        var now = _time.GetUtcNow();
        var replica = _byAddress.AddOrUpdate(heartbeat.Address,
            _ => new Replica(heartbeat.Interval, now),
            (_, known) => known.IsLost ? new Replica(heartbeat.Interval, now) : known);
        replica.Heard(now, heartbeat.Interval);
        _byId[heartbeat.ReplicaId] = replica;
        if (heartbeat.Instance is { Length: > 0 } instance)
        {
            var process = _byInstance.GetOrAdd(instance, _ => new Replica(heartbeat.Interval, now));
            process.Heard(now, heartbeat.Interval);
            if (heartbeat.Stopping)
                process.Lose();
        }
        if (heartbeat.Stopping)
            replica.Lose();
    }

    /// <summary>
    /// The replica at <paramref name="address"/> has just answered a request: it is alive, whatever its heartbeats said
    /// (a lost one is known afresh, as a heartbeat would make it). After a broker restart its answer may come before the
    /// heartbeats do.
    /// </summary>
    public void Answered(Uri address)
    {
        var now = _time.GetUtcNow();
        var replica = _byAddress.AddOrUpdate(address,
            _ => new Replica(DefaultInterval, now),
            (_, known) => known.IsLost ? new Replica(known.Interval, now) : known);
        replica.Heard(now, replica.Interval);
    }

    /// <summary>This instance's heartbeat endpoint stopped receiving: missing heartbeats say nothing until it is back.</summary>
    public void Deafened() => _deaf = true;

    /// <summary>This instance's heartbeat endpoint receives (again): each replica has three heartbeats from now to be heard.</summary>
    public void Hearing()
    {
        Interlocked.Exchange(ref _hearingSinceTicks, _time.GetUtcNow().UtcTicks);
        _deaf = false;
    }

    /// <summary>Whether the replica has been heard from recently and has not said it is stopping.</summary>
    public bool IsAlive(string replicaId) =>
        _byId.TryGetValue(replicaId, out var replica) && !replica.IsLost && !IsOverdue(replica, _time.GetUtcNow());

    /// <summary>Whether the replica process <paramref name="instance"/> has been heard from recently and has not said it is stopping.</summary>
    public bool IsInstanceAlive(string instance) =>
        _byInstance.TryGetValue(instance, out var process) && !process.IsLost && !IsOverdue(process, _time.GetUtcNow());

    /// <summary>Cancelled once the replica at <paramref name="address"/> is lost (already, if it is).</summary>
    public CancellationToken LostToken(Uri address) =>
        _byAddress.GetOrAdd(address, _ => new Replica(DefaultInterval, _time.GetUtcNow())).Lost;

    private bool IsOverdue(Replica replica, DateTimeOffset now) =>
        !_deaf && replica.IsOverdue(now, Interlocked.Read(ref _hearingSinceTicks));

    private void Scan()
    {
        var now = _time.GetUtcNow();
        foreach (var replica in _byAddress.Values)
        {
            if (!replica.IsLost && IsOverdue(replica, now))
                replica.Lose();
        }
    }

    public void Dispose()
    {
        _scan.Dispose();
        foreach (var replica in _byAddress.Values.Concat(_byInstance.Values))
            replica.Dispose();
    }

    private sealed class Replica(TimeSpan interval, DateTimeOffset lastHeard) : IDisposable
    {
        private readonly CancellationTokenSource _lost = new();
        private long _lastHeardTicks = lastHeard.UtcTicks;
        private long _intervalTicks = interval.Ticks;

        public CancellationToken Lost => _lost.Token;
        public bool IsLost => _lost.IsCancellationRequested;
        public TimeSpan Interval => TimeSpan.FromTicks(Interlocked.Read(ref _intervalTicks));

        public void Heard(DateTimeOffset at, TimeSpan every)
        {
            Interlocked.Exchange(ref _lastHeardTicks, at.UtcTicks);
            Interlocked.Exchange(ref _intervalTicks, every.Ticks);
        }

        /// <param name="hearingSinceTicks">Since when heartbeats could be heard: none missed before.</param>
        public bool IsOverdue(DateTimeOffset now, long hearingSinceTicks) =>
            now.UtcTicks - Math.Max(Interlocked.Read(ref _lastHeardTicks), hearingSinceTicks) > MissedHeartbeats * Interlocked.Read(ref _intervalTicks);

        public void Lose()
        {
            try
            {
                _lost.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Shutting down.
            }
        }

        public void Dispose() => _lost.Dispose();
    }
}

/// <summary>Tells <see cref="GatewayReplicas"/> whether its heartbeat endpoint receives.</summary>
internal sealed class HeartbeatEndpointObserver(GatewayReplicas replicas) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready) => Then(replicas.Hearing);

    public Task Stopping(ReceiveEndpointStopping stopping) => Then(replicas.Deafened);

    public Task Completed(ReceiveEndpointCompleted completed) => Then(replicas.Deafened);

    public Task Faulted(ReceiveEndpointFaulted faulted) => Then(replicas.Deafened);

    private static Task Then(Action action)
    {
        action();
        return Task.CompletedTask;
    }
}

/// <summary>Every instance that needs to know the replicas gets every heartbeat (its own temporary queue).</summary>
public sealed class GatewayReplicaHeartbeatConsumer(GatewayReplicas replicas) : IConsumer<GatewayReplicaHeartbeat>
{
    public Task Consume(ConsumeContext<GatewayReplicaHeartbeat> context)
    {
        replicas.Observe(context.Message);
        return Task.CompletedTask;
    }
}
