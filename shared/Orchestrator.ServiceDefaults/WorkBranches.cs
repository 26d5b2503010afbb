namespace Orchestrator.ServiceDefaults;

/// <summary>
/// The branch a work item's change goes on: the issue's (<c>orchestrator/issue-N</c>, so a retried issue updates its pull
/// request), or the work item's own when it has no issue. The Planner names it; Publisher checks a change names it.
/// </summary>
public static class WorkBranches
{
    public const string Prefix = "orchestrator/";

    public static string For(Guid correlationId, int? issueNumber) =>
        issueNumber is { } n ? $"{Prefix}issue-{n}" : $"{Prefix}{correlationId:N}";
}

/// <summary>
/// A message that must not be acted on, ever (it names what its sender may not ask for): it is not retried and goes
/// to the endpoint's _error queue, with this exception's message saying why.
/// </summary>
public sealed class MessageRefusedException(string message) : Exception(message);
