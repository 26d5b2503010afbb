using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.Publisher.Publications;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher.Consumers;

/// <summary>
/// Opens the pull request for a proposed change, once. A redelivered message finds the publication and announces the
/// same pull request again instead of opening a second one.
/// </summary>
public sealed class ChangesProposedConsumer(
    PublisherDbContext db, IPullRequestWriter writer, TimeProvider clock, ILogger<ChangesProposedConsumer> logger)
    : IConsumer<ChangesProposed>
{
    public async Task Consume(ConsumeContext<ChangesProposed> context)
    {
        var change = context.Message;
        using var activity = PublisherTelemetry.Source.Start("publish pull request", change.CorrelationId);

        var publication = await db.Publications.FindAsync([change.CorrelationId], context.CancellationToken);
        if (publication is null)
        {
            var pullRequest = await writer.OpenAsync(change, context.CancellationToken);
            publication = new Publication
            {
                CorrelationId = change.CorrelationId,
                Repository = change.Repository,
                IssueNumber = change.IssueNumber,
                Branch = change.WorkBranch,
                FileCount = change.Files.Count,
                PullRequestNumber = pullRequest.Number,
                PullRequestUrl = pullRequest.Url,
                PublishedAt = clock.GetUtcNow().UtcDateTime,
            };
            db.Publications.Add(publication);
            await db.SaveChangesAsync(context.CancellationToken);
            logger.LogInformation("Work item {CorrelationId}: pull request {Url} opened", change.CorrelationId, pullRequest.Url);
        }

        await context.Publish(new PullRequestOpened(change.CorrelationId, publication.Repository, publication.IssueNumber,
            publication.PullRequestNumber, publication.PullRequestUrl, publication.Branch));
    }
}
