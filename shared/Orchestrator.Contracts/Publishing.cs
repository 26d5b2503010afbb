namespace Orchestrator.Contracts;

/// <summary>The Planner's finished change, for Publisher to put on GitHub as one commit and one pull request.</summary>
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
    RunUsage Usage);

public record PullRequestOpened(Guid CorrelationId, string Repository, int? IssueNumber, int Number, string Url, string Branch);
