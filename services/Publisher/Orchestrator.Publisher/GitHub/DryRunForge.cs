using Microsoft.Extensions.Logging;

namespace Orchestrator.Publisher.GitHub;

/// <summary>
/// Writes nothing (PUBLISH_DRY_RUN): logs what would be written and answers with <c>dry-run://</c> addresses. For trying the
/// system on a repository without touching it.
/// </summary>
public sealed class DryRunForge(ILogger<DryRunForge> logger) : IForge
{
    public Task<PullRequestRef> PublishAsync(PullRequestDraft draft, CancellationToken cancellationToken)
    {
        var number = (int)(BitConverter.ToUInt32(draft.CorrelationId.ToByteArray()) % 100_000) + 1;
        logger.LogInformation("Dry run: would publish {Count} file(s) to {Repository} branch {Branch}", draft.Files.Count, draft.Repository, draft.Branch);
        return Task.FromResult(new PullRequestRef(number, $"dry-run://{draft.Repository}/pull/{number}?branch={Uri.EscapeDataString(draft.Branch)}", ""));
    }

    public Task<long> WriteStatusCommentAsync(string repository, int issue, long? commentId, string marker, string body, CancellationToken cancellationToken)
    {
        logger.LogInformation("Dry run: would write the status comment on {Repository}#{Issue}", repository, issue);
        return Task.FromResult(commentId ?? 0);
    }

    /// <summary>A dry run reads nothing either: every line of a file counts as the change's own.</summary>
    public Task<byte[]?> ReadFileAsync(string repository, string commit, string path, int maxBytes, CancellationToken cancellationToken) =>
        Task.FromResult<byte[]?>(null);

    public Task SetLabelsAsync(string repository, int issue, IReadOnlyCollection<string> wanted, IReadOnlyCollection<string> unwanted, CancellationToken cancellationToken)
    {
        logger.LogInformation("Dry run: would label {Repository}#{Issue} with {Labels}", repository, issue, string.Join(", ", wanted));
        return Task.CompletedTask;
    }
}
