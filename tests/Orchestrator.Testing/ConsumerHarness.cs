using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Testing;

/// <summary>
/// MassTransit's in-memory test harness around a service's consumers, with the service's real SQLite database (migrated)
/// in a temp folder: for a consumer's logic, without a broker.
/// </summary>
public sealed class ConsumerHarness<TContext> : IAsyncDisposable where TContext : DbContext
{
    private readonly ServiceProvider _services;

    private ConsumerHarness(ServiceProvider services, ITestHarness harness)
    {
        _services = services;
        Harness = harness;
    }

    public ITestHarness Harness { get; }

    public static async Task<ConsumerHarness<TContext>> StartAsync(
        Action<IBusRegistrationConfigurator> consumers, Action<IServiceCollection>? services = null)
    {
        var path = Path.Combine(TestPaths.NewTempDirectory("harness"), "service.db");
        var collection = new ServiceCollection()
            .AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton(TimeProvider.System)
            .AddDbContext<TContext>(o => o.UseSqlite($"Data Source={path}"));
        services?.Invoke(collection);
        collection.AddMassTransitTestHarness(consumers);
        var provider = collection.BuildServiceProvider(validateScopes: true);

        await using (var scope = provider.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<TContext>().Database.MigrateAsync();
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return new ConsumerHarness<TContext>(provider, harness);
    }

    /// <summary>Runs <paramref name="query"/> on a fresh context, so it sees what the consumers committed.</summary>
    public Task<T> QueryAsync<T>(Func<TContext, Task<T>> query) =>
        InScopeAsync(services => query(services.GetRequiredService<TContext>()));

    /// <summary>Runs <paramref name="work"/> in a new DI scope, as a consumer would.</summary>
    public async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = _services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _services.DisposeAsync();
    }
}
