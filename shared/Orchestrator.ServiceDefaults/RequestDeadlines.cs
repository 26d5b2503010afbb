using MassTransit;

namespace Orchestrator.ServiceDefaults;

/// <summary>
/// A request's deadline is its time to live, which MassTransit's request client sets to its timeout: past it, nobody
/// waits for the answer. A consumer that sees it has passed drops the request instead of serving it.
/// </summary>
public static class RequestDeadlines
{
    /// <summary>When the requester stops waiting, if the request says.</summary>
    public static DateTimeOffset? Deadline(this ConsumeContext context) =>
        context.ExpirationTime is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;

    public static bool IsExpired(this ConsumeContext context, TimeProvider time) => context.Deadline() is { } at && at <= time.GetUtcNow();
}
