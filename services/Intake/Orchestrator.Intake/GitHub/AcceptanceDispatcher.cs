using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Intake.Ledger;

namespace Orchestrator.Intake.GitHub;

/// <summary>
/// Announces what was saved but never reached the broker (it was down, or Intake died between the two): a work item's
/// <c>WorkItemAccepted</c> and its <c>WorkItemCancelled</c>. Nothing accepted or cancelled is lost. It also forgets
/// webhook deliveries older than <see cref="DeliveriesKept"/>.
/// </summary>
public sealed class AcceptanceDispatcher(IServiceScopeFactory scopes, TimeProvider clock, ILogger<AcceptanceDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>How long a webhook delivery (its id and what its signature covers) is remembered.</summary>
    public static readonly TimeSpan DeliveriesKept = TimeSpan.FromDays(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, clock, stoppingToken);
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<IntakeDbContext>();
                var submissions = scope.ServiceProvider.GetRequiredService<WorkItemSubmissions>();
                // Older than one interval: a just-saved item is still being announced by whoever saved it.
                var before = clock.GetUtcNow().UtcDateTime - Interval;
                foreach (var item in await db.WorkItems.Where(x => !x.Dispatched && x.CreatedAt < before).Take(100).ToListAsync(stoppingToken))
                {
                    if (await submissions.TryDispatchAsync(item, stoppingToken))
                        logger.LogWarning("Work item {CorrelationId} was saved but not announced: announced now", item.Id);
                }
                // Deliveries are remembered to be handled once; GitHub redelivers within days, not weeks.
                await db.WebhookDeliveries.Where(d => d.ReceivedAt < clock.GetUtcNow().UtcDateTime - DeliveriesKept).ExecuteDeleteAsync(stoppingToken);
                // A cancel announced before its acceptance would be overtaken by it: the acceptance goes first.
                foreach (var item in await db.WorkItems.Where(x => x.Status == WorkItemStatus.Cancelled && x.Dispatched && !x.CancelDispatched && x.UpdatedAt < before)
                    .Take(100).ToListAsync(stoppingToken))
                {
                    if (await submissions.TryDispatchCancelAsync(item, stoppingToken))
                        logger.LogWarning("Work item {CorrelationId} was cancelled but the cancel not announced: announced now", item.Id);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Announcing saved work items failed: {Message}", e.Message);
            }
        }
    }
}
