using System.Collections.Concurrent;
using MassTransit;
using Orchestrator.Contracts;

namespace Orchestrator.ToolGateway.Client;

/// <summary>
/// Which ToolGateway replicas are alive, from their heartbeats. A replica is lost when it says it is stopping or when
/// three of its heartbeats are missing; a replica never heard of counts from the moment it is first asked about.
/// </summary>
public sealed class GatewayReplicas : IDisposable
{
    private const int MissedHeartbeats = 3;
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ScanInterval = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<Uri, Replica> _byAddress = new();
    private readonly ConcurrentDictionary<string, Replica> _byId = new();
    private readonly TimeProvider _time;
    private readonly ITimer _scan;

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
        if (heartbeat.Stopping)
            replica.Lose();
    }

    /// <summary>Whether the replica has been heard from recently and has not said it is stopping.</summary>
    public bool IsAlive(string replicaId) =>
        _byId.TryGetValue(replicaId, out var replica) && !replica.IsLost && !replica.IsOverdue(_time.GetUtcNow());

    /// <summary>Cancelled once the replica at <paramref name="address"/> is lost (already, if it is).</summary>
    public CancellationToken LostToken(Uri address) =>
        _byAddress.GetOrAdd(address, _ => new Replica(DefaultInterval, _time.GetUtcNow())).Lost;

    private void Scan()
    {
        var now = _time.GetUtcNow();
        foreach (var replica in _byAddress.Values)
        {
            if (!replica.IsLost && replica.IsOverdue(now))
                replica.Lose();
        }
    }

    public void Dispose()
    {
        _scan.Dispose();
        foreach (var replica in _byAddress.Values)
            replica.Dispose();
    }

    private sealed class Replica(TimeSpan interval, DateTimeOffset lastHeard) : IDisposable
    {
        private readonly CancellationTokenSource _lost = new();
        private long _lastHeardTicks = lastHeard.UtcTicks;
        private long _intervalTicks = interval.Ticks;

        public CancellationToken Lost => _lost.Token;
        public bool IsLost => _lost.IsCancellationRequested;

        public void Heard(DateTimeOffset at, TimeSpan every)
        {
            Interlocked.Exchange(ref _lastHeardTicks, at.UtcTicks);
            Interlocked.Exchange(ref _intervalTicks, every.Ticks);
        }

        public bool IsOverdue(DateTimeOffset now) =>
            now.UtcTicks - Interlocked.Read(ref _lastHeardTicks) > MissedHeartbeats * Interlocked.Read(ref _intervalTicks);

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

/// <summary>Every instance that needs to know the replicas gets every heartbeat (its own temporary queue).</summary>
public sealed class GatewayReplicaHeartbeatConsumer(GatewayReplicas replicas) : IConsumer<GatewayReplicaHeartbeat>
{
    public Task Consume(ConsumeContext<GatewayReplicaHeartbeat> context)
    {
        replicas.Observe(context.Message);
        return Task.CompletedTask;
    }
}
