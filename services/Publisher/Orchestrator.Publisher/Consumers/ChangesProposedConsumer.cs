using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Publisher.GitHub;
using Orchestrator.Publisher.Policy;
using Orchestrator.Publisher.Publications;
using Orchestrator.Publisher.Status;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher.Consumers;

/// <summary>
/// Puts a proposed change on GitHub: only for a work item Publisher saw accepted, in its repository (an allowed one), on
/// its branch (<see cref="WorkBranches"/>); then the publish policy; then one commit on that branch and one pull request. A redelivered message, or one redelivered after Publisher died mid-publish, finds what was already
/// written (the same commit, the branch, the open pull request) and writes nothing twice.
/// </summary>
public sealed class ChangesProposedConsumer(
    StatusBoard board,
    PublishPolicy policy,
    IForge forge,
    IOptions<PublisherOptions> options,
    IOptions<RepositoryAllowList> repositories,
    TimeProvider clock,
    ILogger<ChangesProposedConsumer> logger)
    : IConsumer<ChangesProposed>
{
    private enum Outcome { Opened, Refused, Skipped }

    public async Task Consume(ConsumeContext<ChangesProposed> context)
    {
        var change = context.Message;
        using var activity = PublisherTelemetry.Source.Start("publish pull request", change.CorrelationId);
        // Whoever can publish on the broker can send this message: it is checked against what Intake accepted, not trusted.
        var accepted = await board.FindAsync(change.CorrelationId, context.CancellationToken);
        if (accepted?.Repository is null)
            throw new UnknownWorkItemException(change.CorrelationId);
        if (Refusal(change, accepted) is { } refusal)
        {
            logger.LogWarning("Work item {CorrelationId}: proposed change refused, nothing written: {Refusal}", change.CorrelationId, refusal);
            throw new MessageRefusedException($"ChangesProposed for work item {change.CorrelationId} refused: {refusal}");
        }

        string? detail = null;
        var reason = "publish-refused";
        Publication? published = null;
        var outcome = await board.WithPublicationAsync(change.CorrelationId, async p =>
        {
            published = p;
            if (p.Stage == PublicationStage.PullRequestOpened)
                return Outcome.Opened;
            if (p.IsFinished)
                return Outcome.Skipped;
            p.AddUsage(change.Usage);

            var refusals = await policy.CheckAsync(change, context.CancellationToken);
            if (refusals.Count > 0)
            {
                detail = "The publish policy refused the change:\n" + string.Join('\n', refusals.Select(r => "- " + r));
                p.Advance(PublicationStage.Failed);
                p.Outcome = detail;
                return Outcome.Refused;
            }

            p.Branch = change.WorkBranch;
            if (p.PublishStartedAt is null)
            {
                // Git dates have whole seconds; saved before the first write, so every attempt builds the same commit.
                var now = clock.GetUtcNow().UtcDateTime;
                p.PublishStartedAt = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
                await board.SaveAsync(p, context.CancellationToken);
            }
            try
            {
                var pull = await forge.PublishAsync(new PullRequestDraft(
                    change.CorrelationId, change.Repository, change.BaseBranch, change.BaseCommit, p.Branch, change.Files,
                    change.CommitMessage, new DateTimeOffset(DateTime.SpecifyKind(p.PublishStartedAt.Value, DateTimeKind.Utc)),
                    change.PullRequestTitle, Body(change, p), options.Value.Draft), context.CancellationToken);
                (p.CommitSha, p.PullRequestNumber, p.PullRequestUrl) = (pull.CommitSha, pull.Number, pull.Url);
                p.Advance(PublicationStage.PullRequestOpened);
                return Outcome.Opened;
            }
            catch (PublishFailedException e)
            {
                (reason, detail) = (e.Reason, e.Message);
                p.Advance(PublicationStage.Failed);
                p.Outcome = $"{e.Reason}: {e.Message}";
                return Outcome.Refused;
            }
        }, context.CancellationToken);

        switch (outcome)
        {
            case Outcome.Opened:
                logger.LogInformation("Work item {CorrelationId}: pull request {Url}", change.CorrelationId, published!.PullRequestUrl);
                await context.Publish(new PullRequestOpened(change.CorrelationId, change.Repository, change.IssueNumber,
                    published.PullRequestNumber!.Value, published.PullRequestUrl!, published.Branch!, change.Usage));
                break;
            case Outcome.Refused:
                logger.LogWarning("Work item {CorrelationId}: publish refused: {Detail}", change.CorrelationId, detail);
                await context.Publish(new WorkItemFailed(change.CorrelationId, reason, detail!, change.Usage));
                break;
            default:
                logger.LogInformation("Work item {CorrelationId} is {Stage}: its proposed change is not published", change.CorrelationId, published!.Stage);
                break;
        }
    }

    /// <summary>Why the change may not be published for this work item, or null: it must say what Intake accepted.</summary>
    private string? Refusal(ChangesProposed change, Publication accepted)
    {
        if (!string.Equals(change.Repository, accepted.Repository, StringComparison.OrdinalIgnoreCase))
            return $"it names repository {change.Repository}, the work item is for {accepted.Repository}";
        if (!repositories.Value.Allows(change.Repository))
            return $"{change.Repository} is not in REPOSITORIES";
        if (change.IssueNumber != accepted.IssueNumber)
            return $"it names issue {change.IssueNumber?.ToString(CultureInfo.InvariantCulture) ?? "none"}, the work item is for {accepted.IssueNumber?.ToString(CultureInfo.InvariantCulture) ?? "none"}";
        if (accepted.BaseBranch is not null && change.BaseBranch != accepted.BaseBranch)
            return $"it targets branch {DisplayText.Path(change.BaseBranch)}, the work item targets {accepted.BaseBranch}";
        var branch = WorkBranches.For(change.CorrelationId, accepted.IssueNumber);
        return change.WorkBranch == branch ? null : $"it names branch {DisplayText.Path(change.WorkBranch)}; the work item's branch is {branch}";
    }

    private static string Body(ChangesProposed change, Publication p)
    {
        var body = new StringBuilder(change.PullRequestBody.TrimEnd());
        if (change.IssueNumber is { } issue)
            body.Append(CultureInfo.InvariantCulture, $"\n\nFixes #{issue}");
        if (p.Steps.Count > 0)
        {
            body.Append("\n\n**Plan**\n");
            foreach (var step in p.Steps)
                body.Append(CultureInfo.InvariantCulture, $"- {StatusComment.Plain(step).ReplaceLineEndings(" ")}\n");
        }
        body.Append("\n\n").Append(StatusComment.Usage(p));
        body.Append("\n\n").Append(StatusComment.Marker(change.CorrelationId));
        return body.ToString();
    }
}

/// <summary>A change for a work item whose acceptance Publisher has not read: retried (it may be on its way), then _error.</summary>
public sealed class UnknownWorkItemException(Guid correlationId)
    : Exception($"ChangesProposed for work item {correlationId}, which Publisher has not seen accepted: nothing written");
