using System.Globalization;
using System.Text;
using Orchestrator.Publisher.Publications;

namespace Orchestrator.Publisher.Status;

/// <summary>The one comment a work item keeps on its issue, rendered whole from what Publisher knows.</summary>
public static class StatusComment
{
    public const string InProgressLabel = "orchestrator:in-progress";
    public const string DoneLabel = "orchestrator:done";
    public const string FailedLabel = "orchestrator:failed";
    public static readonly IReadOnlyList<string> StatusLabels = [InProgressLabel, DoneLabel, FailedLabel];

    /// <summary>Hidden in the rendered comment; how a restarted Publisher finds the comment it already wrote.</summary>
    public static string Marker(Guid correlationId) => $"<!-- orchestrator:work-item:{correlationId:D} -->";

    public static IReadOnlyCollection<string> LabelsFor(PublicationStage stage) => stage switch
    {
        PublicationStage.Accepted or PublicationStage.Planned => [InProgressLabel],
        PublicationStage.PullRequestOpened or PublicationStage.Completed => [DoneLabel],
        PublicationStage.Failed => [FailedLabel],
        _ => [],
    };

    public static string Render(Publication p)
    {
        var text = new StringBuilder();
        text.AppendLine(Marker(p.CorrelationId));
        text.AppendLine(CultureInfo.InvariantCulture, $"### Orchestrator: {Headline(p)}");
        text.AppendLine();
        if (p.Stage == PublicationStage.Failed && p.Outcome is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"> {Plain(p.Outcome).ReplaceLineEndings("\n> ")}");
            text.AppendLine();
        }
        if (p.Steps.Count > 0 || p.PlanSummary is not null)
        {
            text.AppendLine("**Plan**");
            if (!string.IsNullOrWhiteSpace(p.PlanSummary))
                text.AppendLine(Plain(p.PlanSummary));
            var done = p.Stage is PublicationStage.PullRequestOpened or PublicationStage.Completed;
            foreach (var step in p.Steps)
                text.AppendLine(CultureInfo.InvariantCulture, $"- [{(done ? 'x' : ' ')}] {Plain(step).ReplaceLineEndings(" ")}");
            text.AppendLine();
        }
        if (p.Duration > TimeSpan.Zero || p.InputTokens + p.OutputTokens > 0)
        {
            text.AppendLine(Usage(p));
            text.AppendLine();
        }
        text.Append(CultureInfo.InvariantCulture, $"<sub>Work item `{p.CorrelationId:D}` · comment `/orchestrator cancel` or `/orchestrator retry`</sub>");
        return text.ToString();
    }

    public static string Usage(Publication p) => string.Create(CultureInfo.InvariantCulture,
        $"**Usage:** {p.InputTokens:N0} input + {p.OutputTokens:N0} output tokens · ${p.Cost:0.0000} · {p.Turns} turns, {p.ToolCalls} tool calls · {Duration(p.Duration)}");

    private static string Headline(Publication p) => p.Stage switch
    {
        PublicationStage.Accepted => "accepted, planning the change",
        PublicationStage.Planned => "planned, making the change",
        PublicationStage.PullRequestOpened => $"pull request opened: {p.PullRequestUrl}",
        PublicationStage.Completed => $"completed: {Plain(p.Outcome ?? "").ReplaceLineEndings(" ")}",
        PublicationStage.Failed => "failed",
        PublicationStage.Cancelled => $"cancelled by {Plain(p.CancelledBy ?? "")}",
        _ => p.Stage.ToString(),
    };

    /// <summary>
    /// Text the comment quotes but did not write (the model's plan, a failure's detail, a file's name) shown as plain text:
    /// no link, image, HTML, code span, heading or table of its making, and no @mention that would notify anyone.
    /// </summary>
    public static string Plain(string text)
    {
        var plain = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '!' or '|' or '#' or '~')
                plain.Append('\\');
            plain.Append(c);
            if (c == '@')
                plain.Append('\u200B');
        }
        return plain.ToString();
    }

    private static string Duration(TimeSpan duration) =>
        duration.TotalHours >= 1 ? duration.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : duration.TotalMinutes >= 1 ? duration.ToString(@"m\:ss", CultureInfo.InvariantCulture) + " min"
        : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.0} s");
}
