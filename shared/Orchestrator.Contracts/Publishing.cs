namespace Orchestrator.Contracts;

/// <summary>The Planner's finished change, for Publisher to put on GitHub as one commit and one pull request.</summary>
/// <param name="Diff">The unified diff against <paramref name="BaseCommit"/>: what the publish policy's secret scan reads.</param>
public record ChangesProposed(
    Guid CorrelationId,
    string Repository,
    int? IssueNumber,
    string BaseBranch,
    string BaseCommit,
    string WorkBranch,
    IReadOnlyList<ChangedFile> Files,
    string CommitMessage,
    string PullRequestTitle,
    string PullRequestBody,
    RunUsage Usage,
    string? Diff = null);

/// <summary>The pull request for a work item is open (or was updated in place, for a retried issue).</summary>
public record PullRequestOpened(Guid CorrelationId, string Repository, int? IssueNumber, int Number, string Url, string Branch, RunUsage? Usage = null);
