using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Orchestrator.Intake.Ledger;

public sealed class IntakeDbContext(DbContextOptions<IntakeDbContext> options) : DbContext(options)
{
    public DbSet<WorkItem> WorkItems => Set<WorkItem>();
    public DbSet<TimelineEntry> Timeline => Set<TimelineEntry>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<WorkItem>(e =>
        {
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(32);
            e.Property(x => x.Repository).HasMaxLength(200);
            e.Property(x => x.Title).HasMaxLength(512);
            e.Property(x => x.Cost).HasConversion<string>();
            e.PrimitiveCollection(x => x.Labels);
            e.HasIndex(x => x.Status);
            e.HasIndex(x => x.Dispatched);
            // At most one active work item per issue, whatever races (poller and webhook) try: the database says no.
            e.HasIndex(x => new { x.Repository, x.IssueNumber }).IsUnique()
                .HasFilter("\"IssueNumber\" IS NOT NULL AND \"Status\" IN ('Accepted', 'Planned', 'InProgress')")
                .HasDatabaseName("IX_WorkItems_ActivePerIssue");
            e.HasMany(x => x.Timeline).WithOne().HasForeignKey(x => x.WorkItemId);
        });
        model.Entity<TimelineEntry>(e =>
        {
            e.HasIndex(x => x.MessageId).IsUnique();
            e.Property(x => x.Kind).HasMaxLength(64);
        });
        model.Entity<WebhookDelivery>(e =>
        {
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
        });
    }
}

/// <summary>For `dotnet ef migrations add`; the service itself configures the context from DATABASE_PATH.</summary>
public sealed class IntakeDbContextDesignFactory : IDesignTimeDbContextFactory<IntakeDbContext>
{
    public IntakeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<IntakeDbContext>().UseSqlite("Data Source=design.db").Options);
}
