using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Intake.Ledger;

namespace Orchestrator.Intake.GitHub;

/// <summary>
/// <c>POST /webhooks/github</c>: GitHub's deliveries, verified by <c>X-Hub-Signature-256</c> (HMAC-SHA256 of the body with
/// GITHUB_WEBHOOK_SECRET, compared in constant time) and handled once per <c>X-GitHub-Delivery</c>. It acts on
/// <c>issues.labeled</c> with WORK_ITEM_LABEL and on issue comments <c>/orchestrator retry</c> and
/// <c>/orchestrator cancel</c>; everything else gets 204.
/// </summary>
public static class WebhookEndpoint
{
    public const string Path = "/webhooks/github";
    private const int MaxBodyBytes = 5 * 1024 * 1024;

    public static IEndpointRouteBuilder MapGitHubWebhook(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, HandleAsync);
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        IOptions<IntakeOptions> options,
        IntakeDbContext db,
        WorkItemSubmissions submissions,
        WorkItemCommands commands,
        TimeProvider clock,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(WebhookEndpoint));
        var settings = options.Value;
        if (string.IsNullOrEmpty(settings.WebhookSecret))
            return Results.Problem("GITHUB_WEBHOOK_SECRET is not set: webhook deliveries cannot be verified", statusCode: 503);
        if (context.Request.ContentLength > MaxBodyBytes)
            return Results.Problem("payload too large", statusCode: 413);

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, cancellationToken);
        var body = buffer.ToArray();
        if (!SignatureMatches(settings.WebhookSecret, body, context.Request.Headers["X-Hub-Signature-256"].ToString()))
        {
            logger.LogWarning("Webhook delivery {Delivery} refused: bad or missing X-Hub-Signature-256", context.Request.Headers["X-GitHub-Delivery"].ToString());
            return Results.Problem("signature does not match", statusCode: 401);
        }

        var eventName = context.Request.Headers["X-GitHub-Event"].ToString();
        var delivery = context.Request.Headers["X-GitHub-Delivery"].ToString();
        if (string.IsNullOrEmpty(eventName) || string.IsNullOrEmpty(delivery) || delivery.Length > 64)
            return Results.Problem("X-GitHub-Event and X-GitHub-Delivery are required", statusCode: 400);

        if (await db.WebhookDeliveries.AnyAsync(d => d.Id == delivery, cancellationToken))
            return Duplicate(logger, delivery);
        db.WebhookDeliveries.Add(new WebhookDelivery { Id = delivery, Event = eventName, ReceivedAt = clock.GetUtcNow().UtcDateTime });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same delivery, twice at once.
            return Duplicate(logger, delivery);
        }

        JsonElement payload;
        try
        {
            payload = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            return Results.Problem("the body is not JSON", statusCode: 400);
        }

        try
        {
            var handler = new Delivery(payload, settings, submissions, commands, logger, cancellationToken);
            return eventName switch
            {
                "issues" when handler.Action == "labeled" => await handler.LabeledAsync(),
                "issue_comment" when handler.Action == "created" => await handler.CommentAsync(),
                _ => Results.NoContent(),
            };
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        {
            logger.LogWarning("Webhook delivery {Delivery} ({Event}) is malformed: {Message}", delivery, eventName, e.Message);
            return Results.Problem($"the {eventName} payload is malformed: {e.Message}", statusCode: 400);
        }
        catch
        {
            // Not handled after all: forget the delivery so GitHub's redelivery is handled.
            db.ChangeTracker.Clear();
            await db.WebhookDeliveries.Where(d => d.Id == delivery).ExecuteDeleteAsync(CancellationToken.None);
            throw;
        }
    }

    private static IResult Duplicate(ILogger logger, string delivery)
    {
        logger.LogInformation("Webhook delivery {Delivery} was already handled", delivery);
        return Results.Ok(new { delivery, handled = "duplicate" });
    }

    public static bool SignatureMatches(string secret, byte[] body, string header)
    {
        if (!header.StartsWith("sha256=", StringComparison.Ordinal))
            return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(7));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private sealed class Delivery(
        JsonElement payload, IntakeOptions settings, WorkItemSubmissions submissions, WorkItemCommands commands, ILogger logger, CancellationToken cancellationToken)
    {
        public string? Action => Text(payload, "action");

        private string? Repository => payload.TryGetProperty("repository", out var r) ? Text(r, "full_name") : null;

        public async Task<IResult> LabeledAsync()
        {
            if (!IsOurRepository() || !payload.TryGetProperty("label", out var label)
                || !string.Equals(Text(label, "name"), settings.WorkItemLabel, StringComparison.OrdinalIgnoreCase))
                return Results.NoContent();
            var issue = payload.GetProperty("issue");
            if (issue.TryGetProperty("pull_request", out _))
                return Results.NoContent();
            var association = Text(issue, "author_association");
            if (!settings.MayTrigger(association))
            {
                logger.LogWarning("Issue #{Issue} labelled, but its author's association {Association} may not trigger work", Number(issue), association);
                return Results.NoContent();
            }
            var result = await submissions.AcceptAsync(IssueSubmission(issue), cancellationToken);
            return Results.Json(new { workItemId = result.Item.Id, outcome = result.Outcome.ToString() },
                statusCode: result.Outcome == AcceptOutcome.Accepted ? 202 : 200);
        }

        public async Task<IResult> CommentAsync()
        {
            var comment = payload.GetProperty("comment");
            var issue = payload.GetProperty("issue");
            var command = (Text(comment, "body") ?? "").Trim().Split('\n')[0].Trim();
            if (!IsOurRepository() || issue.TryGetProperty("pull_request", out _) || !command.StartsWith("/orchestrator", StringComparison.Ordinal))
                return Results.NoContent();
            var by = comment.TryGetProperty("user", out var user) ? Text(user, "login") ?? "unknown" : "unknown";
            if (!settings.MayTrigger(Text(comment, "author_association")))
            {
                logger.LogWarning("Command '{Command}' on issue #{Issue} by {By} ignored: their association may not give commands", command, Number(issue), by);
                return Results.NoContent();
            }

            var latest = await submissions.LatestForIssueAsync(Repository!, Number(issue), cancellationToken);
            CommandResult result;
            switch (command)
            {
                case "/orchestrator cancel" when latest is not null:
                    result = await commands.CancelAsync(latest.Id, by, cancellationToken);
                    break;
                case "/orchestrator retry" when latest is not null:
                    result = await commands.RetryAsync(latest.Id, by, IssueSubmission(issue) with { Author = by }, cancellationToken);
                    break;
                case "/orchestrator retry":
                    // Never run before (labelled before Orchestrator watched, say): a retry is a first run.
                    var accepted = await submissions.AcceptAsync(IssueSubmission(issue) with { Author = by }, cancellationToken);
                    result = new CommandResult(CommandOutcome.Done, accepted.Item, "accepted");
                    break;
                default:
                    logger.LogInformation("Comment on issue #{Issue}: '{Command}' is not a command for this issue's state", Number(issue), command);
                    return Results.NoContent();
            }
            logger.LogInformation("Command '{Command}' on issue #{Issue} by {By}: {Message}", command, Number(issue), by, result.Message);
            return Results.Json(new { workItemId = result.Item?.Id, outcome = result.Outcome.ToString(), message = result.Message },
                statusCode: result.Outcome == CommandOutcome.Done ? 202 : 200);
        }

        private bool IsOurRepository() =>
            Repository is { } repository && string.Equals(repository, settings.DefaultRepository, StringComparison.OrdinalIgnoreCase);

        private Submission IssueSubmission(JsonElement issue) => new(
            settings.DefaultRepository!,
            Number(issue),
            Text(issue, "title") ?? "",
            Text(issue, "body") ?? "",
            issue.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Array
                ? [.. labels.EnumerateArray().Select(l => Text(l, "name") ?? "")] : [],
            issue.TryGetProperty("user", out var user) ? Text(user, "login") ?? "unknown" : "unknown",
            Text(issue, "html_url"));

        private static int Number(JsonElement issue) => issue.GetProperty("number").GetInt32();

        private static string? Text(JsonElement element, string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
    }
}
