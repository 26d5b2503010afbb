using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ServiceDefaults;

public sealed class DatabaseOptions : IValidatedOptions
{
    /// <summary>The service's SQLite file. Each service has its own; no service reads another's.</summary>
    [ConfigurationKeyName("DATABASE_PATH")]
    public string? Path { get; set; }

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
            yield return "DATABASE_PATH is required (the service's SQLite file)";
    }

    public string ConnectionString => $"Data Source={Path};Pooling=True;Default Timeout=30";
}

public static class DatabaseExtensions
{
    /// <summary>
    /// Registers the service's SQLite database: the context, a readiness check, and migrations applied before any
    /// other part of the service starts. <paramref name="defaultPath"/> applies when DATABASE_PATH is not set.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TContext>(this IHostApplicationBuilder builder, string defaultPath)
        where TContext : DbContext
    {
        builder.Services.AddValidatedOptions<DatabaseOptions>(builder.Configuration)
            .PostConfigure(o => o.Path ??= defaultPath);
        builder.Services.AddDbContext<TContext>((services, options) =>
            options.UseSqlite(services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString));
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>("database", tags: [HealthTags.Ready]);
        builder.Services.AddHostedService<DatabaseMigrator<TContext>>();
        return builder;
    }

    private sealed class DatabaseMigrator<TContext>(
        IServiceScopeFactory scopes, IOptions<DatabaseOptions> options, ILogger<DatabaseMigrator<TContext>> logger)
        : IHostedLifecycleService where TContext : DbContext
    {
        // StartingAsync runs before every hosted service's StartAsync, so the bus never consumes into an old schema.
        public async Task StartingAsync(CancellationToken cancellationToken)
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(options.Value.Path!));
            if (!string.IsNullOrEmpty(directory))
                Directory.CreateDirectory(directory);

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TContext>();
            await db.Database.MigrateAsync(cancellationToken);
            // WAL lets the API read while a consumer writes.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            logger.LogInformation("Database {Database} is at the latest migration", typeof(TContext).Name);
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
