using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Orchestrator.Publisher.Publications;

public sealed class PublisherDbContext(DbContextOptions<PublisherDbContext> options) : DbContext(options)
{
    public DbSet<Publication> Publications => Set<Publication>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Publication>(e =>
        {
            e.HasKey(x => x.CorrelationId);
            e.Property(x => x.Stage).HasConversion<string>().HasMaxLength(32);
            e.Property(x => x.LabelledStage).HasConversion<string>().HasMaxLength(32);
            // SQLite has no decimal: cost is stored as text, exactly.
            e.Property(x => x.Cost).HasConversion<string>();
        });
    }
}

/// <summary>For `dotnet ef migrations add`; the service itself configures the context from DATABASE_PATH.</summary>
public sealed class PublisherDbContextDesignFactory : IDesignTimeDbContextFactory<PublisherDbContext>
{
    public PublisherDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PublisherDbContext>().UseSqlite("Data Source=design.db").Options);
}
