using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults.Api;

namespace Orchestrator.Intake.GitHub.Webhooks;

/// <summary>
/// <c>POST /webhooks/github</c>: one verified-delivery step, then one handler per event. The step reads at most
/// <see cref="MaxBodyBytes"/> (413 past it, chunked or not), no slower than <see cref="MinBytesPerSecond"/>, checks <c>X-Hub-Signature-256</c> over the bytes as they
/// arrive (401), reads the fields Intake acts on strictly (400 names a malformed one), and handles each delivery once:
/// by <c>X-GitHub-Delivery</c>, and by what the signature covers (the comment's id for a command, the body's hash
/// otherwise), so a signed delivery replayed under a new delivery id has no second effect. <see cref="IssueLabeledHandler"/>
/// and <see cref="IssueCommentHandler"/> act; every other event gets 204.
/// </summary>
public static class WebhookEndpoint
{
    public const string Path = "/webhooks/github";
    /// <summary>GitHub's issue and comment payloads are far smaller (an issue body is at most 65,536 characters).</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Deliveries read at once from one address: with the size limit, this bounds what its bodies can take.</summary>
    public const int MaxConcurrentDeliveries = 4;

    /// <summary>The slowest a delivery may arrive (after a grace period): a slow sender cannot hold a slot for long.</summary>
    public const int MinBytesPerSecond = 8 * 1024;

    private const string ConcurrencyPolicy = "github-webhook";

    public static IServiceCollection AddGitHubWebhook(this IServiceCollection services)
    {
        services.AddScoped<IssueLabeledHandler>();
        services.AddScoped<IssueCommentHandler>();
        services.AddSingleton<SenderPermissions>();
        // Per sending address, so that one sender's slow or huge deliveries do not hold GitHub's up; beyond the queue, 429.
        services.Configure<RateLimiterOptions>(o => o.AddPolicy(ConcurrencyPolicy, context => RateLimitPartition.GetConcurrencyLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = MaxConcurrentDeliveries,
                QueueLimit = 8,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            })));
        return services;
    }

    public static IEndpointRouteBuilder MapGitHubWebhook(this IEndpointRouteBuilder app)
    {
        // No token: the signature is the credential.
        app.MapPost(Path, HandleAsync).AllowAnonymous().WithRequestSizeLimit(MaxBodyBytes).RequireRateLimiting(ConcurrencyPolicy);
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context, IOptions<IntakeOptions> options, IntakeDbContext db, TimeProvider clock, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(WebhookEndpoint));
        var secret = options.Value.WebhookSecret;
        if (string.IsNullOrEmpty(secret))
            return Results.Problem("GITHUB_WEBHOOK_SECRET is not set: webhook deliveries cannot be verified", statusCode: 503);
        var delivery = context.Request.Headers["X-GitHub-Delivery"].ToString();
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
            rate.MinDataRate = new MinDataRate(MinBytesPerSecond, TimeSpan.FromSeconds(5));
        using var body = await SignedBody.ReadAsync(context.Request, secret, cancellationToken);
        if (body is null)
        {
            logger.LogWarning("Webhook delivery refused: larger than {MaxBytes} bytes", MaxBodyBytes);
            return Results.Problem($"the payload is larger than {MaxBodyBytes} bytes", statusCode: 413);
        }
        if (!body.SignatureMatches)
        {
            logger.LogWarning("Webhook delivery refused: bad or missing X-Hub-Signature-256");
            return Results.Problem("signature does not match", statusCode: 401);
        }

        var eventName = context.Request.Headers["X-GitHub-Event"].ToString();
        if (eventName.Length is 0 or > 64 || delivery.Length is 0 or > 64 || !delivery.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            return Results.Problem("X-GitHub-Event and X-GitHub-Delivery (up to 64 letters, digits and '-') are required", statusCode: 400);
        JsonElement payload;
        try
        {
            // Cloned: the body's segments go back to the pool when the request ends.
            using var document = JsonDocument.Parse(body.Bytes);
            payload = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return Results.Problem("the body is not JSON", statusCode: 400);
        }

        string[] keys;
        try
        {
            keys = [delivery, ContentKey(eventName, payload, body)];
        }
        catch (MalformedPayloadException e)
        {
            return Malformed(logger, delivery, eventName, e);
        }
        if (!await RememberAsync(db, keys, eventName, clock, cancellationToken))
        {
            logger.LogInformation("Webhook delivery {Delivery} ({Event}) was already handled", delivery, eventName);
            return Results.Ok(new { delivery, handled = "duplicate" });
        }

        try
        {
            var action = WebhookPayload.Action(payload);
            return (eventName, action) switch
            {
                ("issues", "labeled") => await context.RequestServices.GetRequiredService<IssueLabeledHandler>().HandleAsync(payload, cancellationToken),
                ("issue_comment", "created") => await context.RequestServices.GetRequiredService<IssueCommentHandler>().HandleAsync(payload, cancellationToken),
                _ => Results.NoContent(),
            };
        }
        catch (Exception e)
        {
            // Not handled after all: forget the delivery, so that GitHub's redelivery is handled.
            db.ChangeTracker.Clear();
            await db.WebhookDeliveries.Where(d => keys.Contains(d.Id)).ExecuteDeleteAsync(CancellationToken.None);
            if (e is MalformedPayloadException malformed)
                return Malformed(logger, delivery, eventName, malformed);
            throw;
        }
    }

    /// <summary>What the signature covers that makes two deliveries the same: the comment for a command, else the body.</summary>
    private static string ContentKey(string eventName, JsonElement payload, SignedBody body) =>
        eventName == "issue_comment" && WebhookPayload.Action(payload) == "created"
            ? $"comment:{WebhookPayload.Comment(payload).Id}"
            : $"body:{Convert.ToBase64String(body.Hash())}";

    /// <returns>False when any key was seen before: the delivery is a duplicate.</returns>
    private static async Task<bool> RememberAsync(IntakeDbContext db, string[] keys, string eventName, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await db.WebhookDeliveries.AnyAsync(d => keys.Contains(d.Id), cancellationToken))
            return false;
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var key in keys)
            db.WebhookDeliveries.Add(new WebhookDelivery { Id = key, Event = eventName, ReceivedAt = now });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // The same delivery, twice at once.
            db.ChangeTracker.Clear();
            return false;
        }
    }

    private static IResult Malformed(ILogger logger, string delivery, string eventName, MalformedPayloadException e)
    {
        logger.LogWarning("Webhook delivery {Delivery} ({Event}) is malformed: {Message}", delivery, eventName, e.Message);
        return Results.Problem($"the {eventName} payload is malformed: {e.Message}", statusCode: 400);
    }
}
