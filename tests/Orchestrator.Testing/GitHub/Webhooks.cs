using System.Text.Json;

namespace Orchestrator.Testing.GitHub;

/// <summary>GitHub's webhook deliveries for the fake's issues: the payloads, and the signed POST GitHub would send.</summary>
public static class Webhooks
{
    /// <summary>Delivers a webhook as GitHub does: JSON body, event and delivery headers, the HMAC signature.</summary>
    public static Task<HttpResponseMessage> DeliverAsync(HttpClient intake, string secret, string eventName, object payload,
        string? delivery = null, string? signature = null, CancellationToken cancellationToken = default) =>
        DeliverAsync(intake, secret, eventName, JsonSerializer.SerializeToUtf8Bytes(payload), delivery, signature, cancellationToken);

    /// <summary>The same, with the body's bytes exactly as given.</summary>
    public static Task<HttpResponseMessage> DeliverAsync(HttpClient intake, string secret, string eventName, byte[] body,
        string? delivery = null, string? signature = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-GitHub-Event", eventName);
        request.Headers.Add("X-GitHub-Delivery", delivery ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", signature ?? FakeGitHub.Sign(secret, body));
        return intake.SendAsync(request, cancellationToken);
    }

    public static object Issue(string repository, FakeIssue issue) => new
    {
        number = issue.Number,
        title = issue.Title,
        body = issue.Body,
        html_url = $"https://github.example/{repository}/issues/{issue.Number}",
        author_association = issue.AuthorAssociation,
        user = new { login = issue.Author },
        labels = issue.Labels.Select(l => new { name = l }),
    };

    public static object Labeled(string repository, FakeIssue issue, string label) => new
    {
        action = "labeled",
        label = new { name = label },
        issue = Issue(repository, issue),
        repository = new { full_name = repository },
        sender = new { login = "octocat" },
    };

    /// <param name="commentId">The comment's id; a new one unless given (a replayed delivery gives the same).</param>
    public static object Commented(string repository, FakeIssue issue, string body, string association, long? commentId = null,
        string login = "maintainer", string type = "User") => new
    {
        action = "created",
        issue = Issue(repository, issue),
        comment = new { id = commentId ?? Random.Shared.NextInt64(1, long.MaxValue), body, author_association = association, user = new { login, type } },
        repository = new { full_name = repository },
    };
}
