using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake.GitHub.Webhooks;

/// <summary>
/// <c>issue_comment.created</c> whose first line is <c>/orchestrator cancel</c> or <c>/orchestrator retry</c>, by someone
/// who may give commands (write access, asked of GitHub; never an app), on an allowed repository's issue: cancels its active work item, or runs the issue again (when
/// the issue's author may trigger work, as the label requires).
/// </summary>
public sealed class IssueCommentHandler(
    IOptions<IntakeOptions> options,
    IOptions<RepositoryAllowList> repositories,
    WorkItemSubmissions submissions,
    WorkItemCommands commands,
    SenderPermissions permissions,
    ILogger<IssueCommentHandler> logger)
{
    public async Task<IResult> HandleAsync(JsonElement payload, CancellationToken cancellationToken)
    {
        var comment = WebhookPayload.Comment(payload);
        var issue = WebhookPayload.Issue(payload);
        var repository = WebhookPayload.Repository(payload);
        var command = comment.Body.Trim().Split('\n')[0].Trim();
        if (issue.IsPullRequest || !command.StartsWith("/orchestrator", StringComparison.Ordinal))
            return Results.NoContent();
        if (!repositories.Value.Allows(repository))
        {
            logger.LogWarning("Command on {Repository}#{Issue} ignored: the repository is not in REPOSITORIES", repository, issue.Number);
            return Results.NoContent();
        }
        if (comment.IsBot)
        {
            logger.LogInformation("Command '{Command}' on issue #{Issue} by the app {By} ignored: apps (Orchestrator itself included) give no commands", command, issue.Number, comment.By);
            return Results.NoContent();
        }
        if (!options.Value.MayTrigger(comment.AuthorAssociation))
        {
            logger.LogWarning("Command '{Command}' on issue #{Issue} by {By} ignored: their association may not give commands", command, issue.Number, comment.By);
            return Results.NoContent();
        }
        // The association is what the payload says; whether they may write to the repository now is GitHub's to say.
        if (!await permissions.MayWriteAsync(repository, comment.By, cancellationToken))
        {
            logger.LogWarning("Command '{Command}' on issue #{Issue} by {By} ignored: GitHub says they may not write to {Repository}", command, issue.Number, comment.By, repository);
            return Results.NoContent();
        }

        // A retry runs the issue as it reads now: its author must be one who may trigger work, as for the label.
        if (command == "/orchestrator retry" && !options.Value.MayTrigger(issue.AuthorAssociation))
        {
            logger.LogWarning("Retry of issue #{Issue} by {By} ignored: the issue's author's association {Association} may not trigger work",
                issue.Number, comment.By, issue.AuthorAssociation);
            return Results.NoContent();
        }

        var latest = await submissions.LatestForIssueAsync(repository, issue.Number, cancellationToken);
        CommandResult result;
        switch (command)
        {
            case "/orchestrator cancel" when latest is not null:
                result = await commands.CancelAsync(latest.Id, comment.By, cancellationToken);
                break;
            case "/orchestrator retry" when latest is not null:
                result = await commands.RetryAsync(latest.Id, comment.By, issue.ToSubmission(repository) with { Author = comment.By }, cancellationToken);
                break;
            case "/orchestrator retry":
                // Never run before (labelled before Orchestrator watched, say): a retry is a first run.
                var accepted = await submissions.AcceptAsync(issue.ToSubmission(repository) with { Author = comment.By }, cancellationToken);
                result = accepted.Item is null
                    ? new CommandResult(CommandOutcome.Conflict, null, "the repository is not in REPOSITORIES")
                    : new CommandResult(CommandOutcome.Done, accepted.Item, "accepted");
                break;
            default:
                logger.LogInformation("Comment on issue #{Issue}: '{Command}' is not a command for this issue's state", issue.Number, command);
                return Results.NoContent();
        }
        logger.LogInformation("Command '{Command}' on issue #{Issue} by {By}: {Message}", command, issue.Number, comment.By, result.Message);
        return Results.Json(new { workItemId = result.Item?.Id, outcome = result.Outcome.ToString(), message = result.Message },
            statusCode: result.Outcome == CommandOutcome.Done ? 202 : 200);
    }
}
