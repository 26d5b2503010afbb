using Microsoft.Extensions.Configuration;

namespace Orchestrator.ToolGateway.Replicas;

/// <summary>This gateway replica: its id (queue name, container labels) and the address session requests are sent to.</summary>
/// <remarks>Reads REPLICA_ID itself: the bus (and so this) is built before the options are validated.</remarks>
public sealed class Replica(IConfiguration configuration)
{
    public string Id { get; } = configuration["REPLICA_ID"] is { Length: > 0 } id
        ? id
        : $"{Environment.MachineName.ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>
    /// This process: new at every start, even when REPLICA_ID keeps the id. Its containers carry it, so a process sweeping
    /// what an earlier one with its id left behind never touches its own.
    /// </summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N")[..12];

    public string QueueName => $"toolgateway-replica-{Id}";

    /// <summary>
    /// The replica queue's full input address, as the bus configured it: it carries the queue's properties (durable,
    /// auto-deleted exchange), so a sender declares it the same way.
    /// </summary>
    public Uri Address { get; set; } = null!;
}
