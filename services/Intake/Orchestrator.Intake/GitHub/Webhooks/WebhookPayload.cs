using System.Text.Json;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake.GitHub.Webhooks;

/// <summary>A field of a signed payload that is missing or not what GitHub sends: the delivery gets 400, naming it.</summary>
public sealed class MalformedPayloadException(string message) : Exception(message);

public sealed record WebhookIssue(int Number, string Title, string Body, IReadOnlyList<string> Labels, string Author, string? Url,
    string? AuthorAssociation, bool IsPullRequest);

/// <param name="IsBot">Written by an app (its user's type is Bot), Orchestrator's own comments included.</param>
public sealed record WebhookComment(long Id, string Body, string By, string? AuthorAssociation, bool IsBot = false);

/// <summary>
/// The fields of a delivery Intake acts on, read strictly: a number is a positive 32-bit (or 64-bit, for ids) integer,
/// a text is a string within GitHub's own limits, a repository is owner/name. Anything else is a
/// <see cref="MalformedPayloadException"/>.
/// </summary>
public static class WebhookPayload
{
    public static string? Action(JsonElement payload) => OptionalText(payload, "action", 64);

    public static string Repository(JsonElement payload)
    {
        var name = Text(Object(payload, "repository"), "full_name", 201, "repository.full_name");
        return RepositoryAllowList.IsName(name) ? name : throw new MalformedPayloadException("repository.full_name is not owner/name");
    }

    public static string? LabelName(JsonElement payload) =>
        payload.TryGetProperty("label", out var label) && label.ValueKind == JsonValueKind.Object ? OptionalText(label, "name", 100) : null;

    public static WebhookIssue Issue(JsonElement payload)
    {
        var issue = Object(payload, "issue");
        var labels = new List<string>();
        if (issue.TryGetProperty("labels", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array)
                throw new MalformedPayloadException("issue.labels is not an array");
            foreach (var label in list.EnumerateArray().Take(100))
                labels.Add(label.ValueKind == JsonValueKind.Object ? OptionalText(label, "name", 100) ?? "" : throw new MalformedPayloadException("issue.labels holds a non-object"));
        }
        return new WebhookIssue(
            PositiveInt(issue, "number", "issue.number"),
            Text(issue, "title", 1_024, "issue.title"),
            OptionalText(issue, "body", 262_144, "issue.body") ?? "",
            labels,
            Login(issue, "issue.user"),
            OptionalText(issue, "html_url", 2_048, "issue.html_url"),
            OptionalText(issue, "author_association", 64, "issue.author_association"),
            issue.TryGetProperty("pull_request", out var pull) && pull.ValueKind != JsonValueKind.Null);
    }

    public static WebhookComment Comment(JsonElement payload)
    {
        var comment = Object(payload, "comment");
        if (!comment.TryGetProperty("id", out var id) || !id.TryGetInt64(out var number) || number <= 0)
            throw new MalformedPayloadException("comment.id is not a positive integer");
        var isBot = comment.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.Object
            && OptionalText(user, "type", 32, "comment.user.type") == "Bot";
        return new WebhookComment(number, OptionalText(comment, "body", 262_144, "comment.body") ?? "", Login(comment, "comment.user"),
            OptionalText(comment, "author_association", 64, "comment.author_association"), isBot);
    }

    private static string Login(JsonElement parent, string path) =>
        parent.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.Object
            ? OptionalText(user, "login", 100, $"{path}.login") ?? "unknown"
            : "unknown";

    private static JsonElement Object(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw new MalformedPayloadException($"{name} is missing or not an object");

    private static int PositiveInt(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0
            ? number
            : throw new MalformedPayloadException($"{path} is not a positive 32-bit integer");

    private static string Text(JsonElement parent, string name, int maxLength, string path) =>
        OptionalText(parent, name, maxLength, path) ?? throw new MalformedPayloadException($"{path} is missing");

    private static string? OptionalText(JsonElement parent, string name, int maxLength, string? path = null)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.String)
            throw new MalformedPayloadException($"{path ?? name} is not a string");
        var text = value.GetString()!;
        return text.Length <= maxLength ? text : throw new MalformedPayloadException($"{path ?? name} is longer than {maxLength} characters");
    }

}
