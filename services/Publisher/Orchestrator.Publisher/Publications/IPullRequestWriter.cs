using Microsoft.EntityFrameworkCore;
using Orchestrator.Contracts;

namespace Orchestrator.Publisher.Publications;

public sealed record PullRequestRef(int Number, string Url);

/// <summary>Puts a proposed change on the forge as a branch, a commit and a pull request.</summary>
public interface IPullRequestWriter
{
    Task<PullRequestRef> OpenAsync(ChangesProposed change, CancellationToken cancellationToken);
}

/// <summary>
/// Writes nothing: records what would be published. The placeholder until the GitHub writer lands, and afterwards the
/// mode for trying the system on a repository without touching it.
/// </summary>
public sealed class DryRunPullRequestWriter(PublisherDbContext db) : IPullRequestWriter
{
    public async Task<PullRequestRef> OpenAsync(ChangesProposed change, CancellationToken cancellationToken)
    {
        var number = await db.Publications.CountAsync(cancellationToken) + 1;
        return new PullRequestRef(number, $"dry-run://{change.Repository}/pull/{number}?branch={Uri.EscapeDataString(change.WorkBranch)}");
    }
}
