using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Intake.GitHub.Webhooks;

/// <summary><c>issues.labeled</c> with WORK_ITEM_LABEL: the issue becomes a work item, if its author may trigger work.</summary>
public sealed class IssueLabeledHandler(IOptions<IntakeOptions> options, WorkItemSubmissions submissions, ILogger<IssueLabeledHandler> logger)
{
    public async Task<IResult> HandleAsync(JsonElement payload, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!string.Equals(WebhookPayload.LabelName(payload), settings.WorkItemLabel, StringComparison.OrdinalIgnoreCase))
            return Results.NoContent();
        var repository = WebhookPayload.Repository(payload);
        var issue = WebhookPayload.Issue(payload);
        if (issue.IsPullRequest)
            return Results.NoContent();
        if (!settings.MayTrigger(issue.AuthorAssociation))
        {
            logger.LogWarning("Issue {Repository}#{Issue} labelled, but its author's association {Association} may not trigger work",
                repository, issue.Number, issue.AuthorAssociation);
            return Results.NoContent();
        }
        var result = await submissions.AcceptAsync(issue.ToSubmission(repository), cancellationToken);
        return result.Outcome switch
        {
            AcceptOutcome.RepositoryNotAllowed => Results.NoContent(),
            AcceptOutcome.Accepted => Results.Json(new { workItemId = result.Item!.Id, outcome = result.Outcome.ToString() }, statusCode: 202),
            _ => Results.Json(new { workItemId = result.Item!.Id, outcome = result.Outcome.ToString() }, statusCode: 200),
        };
    }
}

internal static class WebhookIssueExtensions
{
    public static Submission ToSubmission(this WebhookIssue issue, string repository) =>
        new(repository, issue.Number, issue.Title, issue.Body, issue.Labels, issue.Author, issue.Url);
}
