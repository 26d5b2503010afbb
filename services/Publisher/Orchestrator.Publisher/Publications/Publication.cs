namespace Orchestrator.Publisher.Publications;

/// <summary>The pull request published for a work item. One row per CorrelationId: the guard against a second PR.</summary>
public sealed class Publication
{
    public Guid CorrelationId { get; set; }
    public required string Repository { get; set; }
    public int? IssueNumber { get; set; }
    public required string Branch { get; set; }
    public int FileCount { get; set; }
    public int PullRequestNumber { get; set; }
    public required string PullRequestUrl { get; set; }
    public DateTime PublishedAt { get; set; }
}
