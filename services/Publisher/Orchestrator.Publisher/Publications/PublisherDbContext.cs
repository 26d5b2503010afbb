using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Orchestrator.Publisher.Publications;

public sealed class PublisherDbContext(DbContextOptions<PublisherDbContext> options) : DbContext(options)
{
    public DbSet<Publication> Publications => Set<Publication>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Publication>(e => e.HasKey(x => x.CorrelationId));
    }
}

/// <summary>For `dotnet ef migrations add`; the service itself configures the context from DATABASE_PATH.</summary>
public sealed class PublisherDbContextDesignFactory : IDesignTimeDbContextFactory<PublisherDbContext>
{
    public PublisherDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PublisherDbContext>().UseSqlite("Data Source=design.db").Options);
}
