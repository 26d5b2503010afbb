using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Orchestrator.Planner.Runs;
using Orchestrator.ServiceDefaults.Api;

namespace Orchestrator.Planner.Api;

public sealed record RunUsageView(int Turns, int ToolCalls, long InputTokens, long OutputTokens, decimal Cost, double DurationSeconds);

public sealed record TranscriptEntryView(
    int Sequence,
    int Attempt,
    DateTime At,
    string Phase,
    string Kind,
    string? Text,
    string? Tool,
    string? CallId,
    JsonElement? Arguments,
    bool IsError,
    long? InputTokens,
    long? OutputTokens,
    double? DurationMs);

public sealed record RunView(
    Guid CorrelationId,
    RunStatus Status,
    string? Phase,
    string? Model,
    int Attempts,
    int WorkspaceLosses,
    int Resumes,
    string? FailureReason,
    string? Error,
    RunUsageView Usage,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    IReadOnlyList<TranscriptEntryView>? Transcript);

/// <summary>The Planner's runs as JSON: one with its whole transcript, or the latest ones without.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runs");
        api.MapGet("/{correlationId:guid}", GetAsync).RequireRead();
        api.MapGet("/", ListAsync).RequireRead();
        return app;
    }

    private static async Task<IResult> GetAsync(Guid correlationId, PlannerDbContext db, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().Include(r => r.Transcript).FirstOrDefaultAsync(r => r.CorrelationId == correlationId, cancellationToken);
        return run is null
            ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No run for work item {correlationId} on this Planner")
            : Results.Ok(View(run, withTranscript: true));
    }

    private static async Task<IResult> ListAsync(PlannerDbContext db, CancellationToken cancellationToken, int limit = 50)
    {
        limit = Math.Clamp(limit, 1, 500);
        var runs = await db.Runs.AsNoTracking().OrderByDescending(r => r.CreatedAt).Take(limit).ToListAsync(cancellationToken);
        return Results.Ok(runs.Select(r => View(r, withTranscript: false)));
    }

    private static RunView View(Run run, bool withTranscript) => new(
        run.CorrelationId, run.Status, run.Phase is { } phase ? PlannerDbContext.PhaseName(phase) : null, run.Model, run.Attempts,
        run.WorkspaceLosses, run.Resumes, run.FailureReason, run.Error,
        new RunUsageView(run.Turns, run.ToolCalls, run.InputTokens, run.OutputTokens, run.Cost, run.Duration.TotalSeconds),
        run.CreatedAt, run.UpdatedAt,
        withTranscript ? [.. run.Transcript.OrderBy(e => e.Sequence).Select(Entry)] : null);

    private static TranscriptEntryView Entry(TranscriptEntry e) => new(
        e.Sequence, e.Attempt, e.At, e.Phase, e.Kind, e.Text, e.Tool, e.CallId, Arguments(e.ArgumentsJson), e.IsError,
        e.InputTokens, e.OutputTokens, e.Duration?.TotalMilliseconds);

    // Arguments are served as JSON; what does not parse (a model's malformed call) is served as the string it was.
    private static JsonElement? Arguments(string? json)
    {
        if (json is null)
            return null;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
