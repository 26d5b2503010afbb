using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner.Runs;

/// <summary>
/// Runs work items in the background, at most PLANNER_MAX_CONCURRENT_RUNS at once, outside any consumer so a long run
/// holds no message. At start it picks up the runs a previous process left unfinished. A cancelled work item's run is
/// stopped where it is (its workspace is closed on the way out).
/// </summary>
public sealed class RunScheduler(
    IServiceScopeFactory scopes, IOptions<PlannerOptions> options, TimeProvider clock, ILogger<RunScheduler> logger)
    : BackgroundService
{
    private readonly Channel<Guid> _queue = Channel.CreateUnbounded<Guid>();
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _active = new();

    public void Enqueue(Guid correlationId) => _queue.Writer.TryWrite(correlationId);

    /// <summary>Stops the run if this replica is running it; the caller has already marked it cancelled.</summary>
    public bool Cancel(Guid correlationId)
    {
        if (!_active.TryGetValue(correlationId, out var cancel))
            return false;
        try
        {
            cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It ended meanwhile.
        }
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PlannerDbContext>();
            var unfinished = await db.Runs.Where(r => r.Status == RunStatus.Pending || r.Status == RunStatus.Running)
                .Select(r => r.CorrelationId).ToListAsync(stoppingToken);
            foreach (var id in unfinished)
                Enqueue(id);
            if (unfinished.Count > 0)
                logger.LogInformation("Resuming {Count} unfinished run(s)", unfinished.Count);
        }

        using var slots = new SemaphoreSlim(options.Value.MaxConcurrentRuns);
        var running = new List<Task>();
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                var cancel = new CancellationTokenSource();
                if (!_active.TryAdd(id, cancel))
                {
                    cancel.Dispose();
                    continue;
                }
                await slots.WaitAsync(stoppingToken);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await ExecuteRunAsync(id, cancel.Token, stoppingToken);
                    }
                    finally
                    {
                        _active.TryRemove(id, out _);
                        cancel.Dispose();
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // A run cut off by shutdown stays Running in the database and resumes at the next start.
        await Task.WhenAll(running);
    }

    private async Task ExecuteRunAsync(Guid id, CancellationToken cancelled, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlannerDbContext>();
        var run = await db.Runs.FindAsync([id], stoppingToken);
        if (run is null || run.IsFinished)
            return;

        // The run continues the work item's trace, even when it resumes in a new process.
        using var activity = PlannerTelemetry.Source.StartActivity("run work item", ActivityKind.Internal, run.TraceParent);
        activity?.SetTag(WorkItemActivity.CorrelationIdTag, id);
        var item = JsonSerializer.Deserialize<WorkItemAccepted>(run.WorkItemJson)!;
        var transcript = scope.ServiceProvider.GetRequiredService<Transcript>();
        var bus = scope.ServiceProvider.GetRequiredService<IBus>();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancelled, stoppingToken);
        await transcript.BeginAsync(run);
        // The Planner that ran it stopped (or died) meanwhile: a resume, counted apart from lost workspaces.
        var resumed = run.Status == RunStatus.Running;
        try
        {
            if (resumed)
            {
                run.Resumes++;
                if (run.Resumes > options.Value.MaxResumes)
                {
                    throw new RunFailedException("planner-restarts",
                        $"The run was interrupted by a Planner restart {run.Resumes} times; the limit is {options.Value.MaxResumes} (PLANNER_MAX_RESUMES)");
                }
            }
            while (true)
            {
                run.Status = RunStatus.Running;
                run.Attempts++;
                run.UpdatedAt = clock.GetUtcNow().UtcDateTime;
                await db.SaveChangesAsync(stoppingToken);
                if (resumed)
                    await transcript.AddAsync("note", $"Resumed after a Planner restart ({run.Resumes} so far; PLANNER_MAX_RESUMES is {options.Value.MaxResumes}).");
                resumed = false;
                try
                {
                    run.Status = await scope.ServiceProvider.GetRequiredService<WorkItemRunner>().RunAsync(run, item, either.Token);
                    break;
                }
                catch (WorkspaceLostException lost) when (!either.IsCancellationRequested && ++run.WorkspaceLosses < options.Value.MaxAttempts)
                {
                    // The workspace is no use: start over in a new one (the budgets go on).
                    logger.LogWarning("Run {CorrelationId}: {Detail}; starting over ({Losses} workspace(s) lost)", id, lost.Message, run.WorkspaceLosses);
                    await transcript.AddAsync("note", $"{lost.Message} Starting over in a new workspace.", isError: true);
                }
            }
        }
        catch (Exception) when (cancelled.IsCancellationRequested)
        {
            logger.LogInformation("Run {CorrelationId} stopped: the work item was cancelled", id);
            run.Status = RunStatus.Cancelled;
            await transcript.AddAsync("note", "Stopped: the work item was cancelled.");
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogInformation("Run {CorrelationId} interrupted by shutdown; it resumes at the next start", id);
            return;
        }
        catch (Exception e)
        {
            var (reason, detail) = e is RunFailedException failure ? (failure.Reason, failure.Message) : ("run-error", e.Message);
            if (e is RunFailedException)
                logger.LogWarning("Run {CorrelationId} failed: {Reason}: {Detail}", id, reason, detail);
            else
                logger.LogError(e, "Run {CorrelationId} failed", id);
            activity?.SetStatus(ActivityStatusCode.Error, reason);
            run.Status = RunStatus.Failed;
            run.FailureReason = reason;
            run.Error = transcript.Redact(detail);
            await transcript.AddAsync("failure", $"{reason}: {detail}", isError: true);
            await bus.Publish(new WorkItemFailed(id, reason, run.Error, run.Usage), CancellationToken.None);
        }
        run.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
