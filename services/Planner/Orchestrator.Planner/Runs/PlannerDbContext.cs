using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Orchestrator.Planner.Runs;

public sealed class PlannerDbContext(DbContextOptions<PlannerDbContext> options) : DbContext(options)
{
    public DbSet<Run> Runs => Set<Run>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Run>(e =>
        {
            e.HasKey(x => x.CorrelationId);
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(32);
            e.HasIndex(x => x.Status);
        });
    }
}

/// <summary>For `dotnet ef migrations add`; the service itself configures the context from DATABASE_PATH.</summary>
public sealed class PlannerDbContextDesignFactory : IDesignTimeDbContextFactory<PlannerDbContext>
{
    public PlannerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PlannerDbContext>().UseSqlite("Data Source=design.db").Options);
}
