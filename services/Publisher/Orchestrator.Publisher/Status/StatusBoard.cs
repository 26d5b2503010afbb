using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ServiceDefaults;
using Orchestrator.Publisher.GitHub;
using Orchestrator.Publisher.Publications;

namespace Orchestrator.Publisher.Status;

/// <summary>
/// Applies an event to its work item's publication (one at a time per work item), then makes the issue show it: the status
/// comment written or edited in place, the status labels set.
/// </summary>
public sealed class StatusBoard(
    PublisherDbContext db, WorkItemLocks locks, IForge forge, IOptions<RepositoryAllowList> repositories, TimeProvider clock, ILogger<StatusBoard> logger)
{
    /// <summary>Runs <paramref name="work"/> on the publication under its work item's lock, saves it, and brings the issue up to date.</summary>
    public async Task<T> WithPublicationAsync<T>(Guid correlationId, Func<Publication, Task<T>> work, CancellationToken cancellationToken)
    {
        using var _ = await locks.AcquireAsync(correlationId, cancellationToken);
        var publication = await db.Publications.FindAsync([correlationId], cancellationToken);
        if (publication is null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            publication = new Publication { CorrelationId = correlationId, CreatedAt = now, UpdatedAt = now };
            db.Publications.Add(publication);
        }
        var result = await work(publication);
        await SaveAsync(publication, cancellationToken);
        await ShowOnIssueAsync(publication, cancellationToken);
        return result;
    }

    /// <summary>The work item's publication as saved, or null.</summary>
    public Task<Publication?> FindAsync(Guid correlationId, CancellationToken cancellationToken) =>
        db.Publications.AsNoTracking().FirstOrDefaultAsync(p => p.CorrelationId == correlationId, cancellationToken);

    public Task UpdateAsync(Guid correlationId, Action<Publication> apply, CancellationToken cancellationToken) =>
        WithPublicationAsync(correlationId, p =>
        {
            apply(p);
            return Task.FromResult(true);
        }, cancellationToken);

    public async Task SaveAsync(Publication publication, CancellationToken cancellationToken)
    {
        publication.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task ShowOnIssueAsync(Publication p, CancellationToken cancellationToken)
    {
        // Nothing to show until the Accepted event said which issue (it may arrive after others), or for an API-only item.
        if (p.Repository is null || p.IssueNumber is not { } issue)
            return;
        if (!repositories.Value.Allows(p.Repository))
        {
            logger.LogWarning("Work item {CorrelationId}: {Repository} is not in REPOSITORIES: its issue is not written to", p.CorrelationId, p.Repository);
            return;
        }
        var body = StatusComment.Render(p);
        if (p.CommentId is null || body != p.RenderedComment)
        {
            p.CommentId = await forge.WriteStatusCommentAsync(p.Repository, issue, p.CommentId, StatusComment.Marker(p.CorrelationId), body, cancellationToken);
            p.RenderedComment = body;
            await SaveAsync(p, cancellationToken);
        }
        if (p.LabelledStage != p.Stage)
        {
            var wanted = StatusComment.LabelsFor(p.Stage);
            await forge.SetLabelsAsync(p.Repository, issue, wanted, [.. StatusComment.StatusLabels.Except(wanted)], cancellationToken);
            p.LabelledStage = p.Stage;
            await SaveAsync(p, cancellationToken);
        }
        logger.LogDebug("Work item {CorrelationId}: {Repository}#{Issue} shows {Stage}", p.CorrelationId, p.Repository, issue, p.Stage);
    }
}
