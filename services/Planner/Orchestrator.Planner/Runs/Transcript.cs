using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Orchestrator.Planner.Llm;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner.Runs;

/// <summary>
/// Writes a run's transcript as it happens (each entry is saved at once, so a running or crashed run can be inspected),
/// masking secrets first: the Planner's own API key, and anything that looks like a credential.
/// </summary>
public sealed class Transcript(PlannerDbContext db, IOptions<LlmOptions> llm, TimeProvider clock)
{
    private Run? _run;
    private int _sequence;

    public async Task BeginAsync(Run run)
    {
        _run = run;
        _sequence = await db.Transcript.Where(e => e.CorrelationId == run.CorrelationId).MaxAsync(e => (int?)e.Sequence) ?? 0;
    }

    /// <summary>Adds an entry and saves it, with the run's counters as they are now. Never cancelled: a stopped run keeps its story.</summary>
    public async Task AddAsync(string kind, string? text, string? tool = null, string? callId = null, string? argumentsJson = null,
        bool isError = false, long? inputTokens = null, long? outputTokens = null, TimeSpan? duration = null)
    {
        var run = _run ?? throw new InvalidOperationException("BeginAsync first");
        var now = clock.GetUtcNow().UtcDateTime;
        db.Transcript.Add(new TranscriptEntry
        {
            CorrelationId = run.CorrelationId,
            Sequence = ++_sequence,
            Attempt = run.Attempts,
            At = now,
            Phase = PlannerDbContext.PhaseName(run.Phase ?? RunPhase.Starting),
            Kind = kind,
            Text = text is null ? null : Redact(text),
            Tool = tool,
            CallId = callId,
            ArgumentsJson = argumentsJson is null ? null : Redact(argumentsJson),
            IsError = isError,
            InputTokens = inputTokens,
            OutputTokens = outputTokens,
            Duration = duration,
        });
        run.UpdatedAt = now;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    public string Redact(string text)
    {
        if (llm.Value.ApiKey is { Length: >= 4 } key)
            text = text.Replace(key, SecretPatterns.Mask, StringComparison.Ordinal);
        return SecretPatterns.Redact(text);
    }
}
