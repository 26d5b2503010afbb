namespace Orchestrator.Contracts;

/// <summary>Intake accepted a work item: the issue the agent will turn into a pull request.</summary>
/// <param name="Repository">"owner/name".</param>
/// <param name="IssueNumber">The GitHub issue, or null for a work item submitted through the API alone.</param>
/// <param name="CloneUrl">Where ToolGateway clones the repository from: a URL, or a local path in tests.</param>
public record WorkItemAccepted(
    Guid CorrelationId,
    string Repository,
    int? IssueNumber,
    string Title,
    string Body,
    IReadOnlyList<string> Labels,
    string Author,
    string BaseBranch,
    string CloneUrl);

/// <summary>The agent's plan, posted on the issue before any change is made.</summary>
public record WorkItemPlanned(Guid CorrelationId, string Summary, IReadOnlyList<string> Steps);

/// <summary>A step of a run worth showing on the timeline (workspace opened, a tool called, changes collected).</summary>
public record WorkItemProgressed(Guid CorrelationId, string Stage, string Detail);

/// <summary>The work item ended without a pull request. <paramref name="Reason"/> is a short machine-readable cause.</summary>
/// <param name="Usage">What the run cost before it failed, when a run happened.</param>
public record WorkItemFailed(Guid CorrelationId, string Reason, string Detail, RunUsage? Usage = null);

/// <summary>
/// A person cancelled the work item (API or an <c>/orchestrator cancel</c> comment): the Planner stops its run, Publisher
/// publishes nothing more for it.
/// </summary>
public record WorkItemCancelled(Guid CorrelationId, string By);

/// <summary>The run ended with nothing to publish (for example, the change was already there).</summary>
public record WorkItemCompleted(Guid CorrelationId, string Outcome, RunUsage Usage);

/// <summary>What a run cost. Cost is in US dollars, from the Planner's price table.</summary>
public record RunUsage(int Turns, int ToolCalls, long InputTokens, long OutputTokens, decimal Cost, TimeSpan Duration)
{
    public static RunUsage None { get; } = new(0, 0, 0, 0, 0m, TimeSpan.Zero);
}
