using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orchestrator.Intake.Ledger;

namespace Orchestrator.Intake.GitHub;

/// <summary>
/// Announces work items that were saved but whose <c>WorkItemAccepted</c> never reached the broker (it was down, or
/// Intake died between the two): nothing accepted is lost.
/// </summary>
public sealed class AcceptanceDispatcher(IServiceScopeFactory scopes, TimeProvider clock, ILogger<AcceptanceDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

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
                    await submissions.DispatchAsync(item, stoppingToken);
                    logger.LogWarning("Work item {CorrelationId} was saved but not announced: announced now", item.Id);
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
