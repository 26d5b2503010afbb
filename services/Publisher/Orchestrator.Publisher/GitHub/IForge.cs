using Orchestrator.Contracts;

namespace Orchestrator.Publisher.GitHub;

/// <summary>A pull request as it stands after a publish.</summary>
public sealed record PullRequestRef(int Number, string Url, string CommitSha);

/// <summary>Everything one publish writes: one commit of <see cref="Files"/> on <see cref="BaseCommit"/>, the branch, the pull request.</summary>
public sealed record PullRequestDraft(
    Guid CorrelationId,
    string Repository,
    string BaseBranch,
    string BaseCommit,
    string Branch,
    IReadOnlyList<ChangedFile> Files,
    string CommitMessage,
    DateTimeOffset CommitDate,
    string Title,
    string Body,
    bool Draft);

/// <summary>
/// The writes Publisher makes on the forge. Each is idempotent on its own: it finds what an earlier attempt made (the
/// branch by name, the pull request by its head, the status comment by its marker) before it creates anything.
/// </summary>
public interface IForge
{
    Task<PullRequestRef> PublishAsync(PullRequestDraft draft, CancellationToken cancellationToken);

    /// <summary>Creates or edits the comment carrying <paramref name="marker"/>; returns its id.</summary>
    Task<long> WriteStatusCommentAsync(string repository, int issue, long? commentId, string marker, string body, CancellationToken cancellationToken);

    /// <summary>The file's bytes at <paramref name="commit"/> (at most <paramref name="maxBytes"/> of them), or null when it has none there.</summary>
    Task<byte[]?> ReadFileAsync(string repository, string commit, string path, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Makes the issue carry every label of <paramref name="wanted"/> and none of <paramref name="unwanted"/>.</summary>
    Task SetLabelsAsync(string repository, int issue, IReadOnlyCollection<string> wanted, IReadOnlyCollection<string> unwanted, CancellationToken cancellationToken);
}

/// <summary>A publish that cannot succeed however often it is retried (the base commit is not on GitHub, say).</summary>
public sealed class PublishFailedException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
