using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Orchestrator.Planner.Runs;

public sealed class PlannerDbContext(DbContextOptions<PlannerDbContext> options) : DbContext(options)
{
    /// <summary>A phase is stored as its name in lower case ("planning"), as the transcript shows it.</summary>
    public static string PhaseName(RunPhase phase) => phase.ToString().ToLowerInvariant();

    private static readonly ValueConverter<RunPhase, string> PhaseText = new(p => PhaseName(p), s => Enum.Parse<RunPhase>(s, true));

    public DbSet<Run> Runs => Set<Run>();
    public DbSet<TranscriptEntry> Transcript => Set<TranscriptEntry>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Run>(e =>
        {
            e.HasKey(x => x.CorrelationId);
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(32);
            e.HasIndex(x => x.Status);
            e.Property(x => x.Phase).HasConversion(PhaseText).HasMaxLength(32);
            e.Property(x => x.FailureReason).HasMaxLength(64);
            // SQLite has no decimal: stored as text, which keeps the cents exact.
            e.Property(x => x.Cost).HasConversion<string>();
            e.HasMany(x => x.Transcript).WithOne().HasForeignKey(x => x.CorrelationId);
        });
        model.Entity<TranscriptEntry>(e =>
        {
            e.HasIndex(x => new { x.CorrelationId, x.Sequence }).IsUnique();
            e.Property(x => x.Phase).HasMaxLength(32);
            e.Property(x => x.Kind).HasMaxLength(32);
        });
    }
}

/// <summary>For `dotnet ef migrations add`; the service itself configures the context from DATABASE_PATH.</summary>
public sealed class PlannerDbContextDesignFactory : IDesignTimeDbContextFactory<PlannerDbContext>
{
    public PlannerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PlannerDbContext>().UseSqlite("Data Source=design.db").Options);
}
