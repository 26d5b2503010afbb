using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Orchestrator.GitHub;

namespace Orchestrator.Intake.GitHub;

/// <summary>One poll's result: how many labelled open issues were seen and accepted, or how long GitHub asked us to wait.</summary>
public sealed record PollResult(int Seen, int Accepted, TimeSpan? RateLimitedFor);

/// <summary>
/// Polls the repository for open issues carrying WORK_ITEM_LABEL, every page, with conditional requests: an unchanged
/// page is answered 304 from the cached ETag and costs no rate limit. Runs beside the webhook, so a missed delivery is
/// still picked up. A rate-limited answer makes it wait what GitHub asks (Retry-After, x-ratelimit-reset), not fail.
/// </summary>
public sealed class IssuePoller(
    IServiceScopeFactory scopes, GitHubClientFactory clients, IOptions<IntakeOptions> options, TimeProvider clock, ILogger<IssuePoller> logger)
    : BackgroundService
{
    private readonly Lazy<ApiConnection> _api = new(() => new ApiConnection(clients.Create(new ResponseCache()).Connection));
    private readonly HashSet<int> _refusedReported = [];

    public async Task<PollResult> PollAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var repository = settings.DefaultRepository ?? throw new InvalidOperationException("REPO_OWNER and REPO_NAME are not set");
        IReadOnlyList<PolledIssue> issues;
        try
        {
            issues = await _api.Value.GetAll<PolledIssue>(new Uri($"repos/{repository}/issues", UriKind.Relative), new Dictionary<string, string>
            {
                ["labels"] = settings.WorkItemLabel,
                ["state"] = "open",
                ["per_page"] = "100",
            });
        }
        catch (ApiException e) when (RateLimits.RetryAfter(e, clock.GetUtcNow()) is { } wait)
        {
            logger.LogWarning("GitHub rate limit ({Status}) while polling {Repository}: next poll in {Wait}", (int)e.StatusCode, repository, wait);
            return new PollResult(0, 0, wait);
        }

        var accepted = 0;
        // The issues endpoint lists pull requests too; those are not work items.
        foreach (var issue in issues.Where(i => i.PullRequest is null).OrderBy(i => i.Number))
        {
            if (!settings.MayTrigger(issue.AuthorAssociation))
            {
                if (_refusedReported.Add(issue.Number))
                    logger.LogWarning("Issue {Repository}#{Issue} is labelled, but its author's association {Association} may not trigger work (TRIGGER_ASSOCIATIONS)",
                        repository, issue.Number, issue.AuthorAssociation);
                continue;
            }
            await using var scope = scopes.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<WorkItemSubmissions>().AcceptAsync(new Submission(
                repository, issue.Number, issue.Title, issue.Body ?? "", [.. issue.Labels.Select(l => l.Name)],
                issue.User?.Login ?? "unknown", issue.HtmlUrl), cancellationToken);
            if (result.Outcome == AcceptOutcome.Accepted)
                accepted++;
        }
        return new PollResult(issues.Count, accepted, null);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.PollInterval == TimeSpan.Zero || settings.DefaultRepository is null)
        {
            logger.LogInformation("Polling is off (GITHUB_POLL_INTERVAL=0 or no REPO_OWNER/REPO_NAME)");
            return;
        }
        logger.LogInformation("Polling {Repository} for issues labelled {Label} every {Interval}", settings.DefaultRepository, settings.WorkItemLabel, settings.PollInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = settings.PollInterval;
            try
            {
                var result = await PollAsync(stoppingToken);
                if (result.RateLimitedFor is { } limited)
                    wait = limited;
                else if (result.Accepted > 0)
                    logger.LogInformation("Poll: {Accepted} new work item(s) from {Seen} labelled issue(s)", result.Accepted, result.Seen);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // GitHub down, a bad token, the database locked: report and keep polling.
                logger.LogError(e, "Polling {Repository} failed: {Message}", settings.DefaultRepository, e.Message);
            }
            try
            {
                await Task.Delay(wait, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>
/// The issue fields Intake reads. Octokit's own Issue type has no author_association, so the poll reads into this
/// (Octokit's serializer maps snake_case JSON onto these properties).
/// </summary>
public sealed class PolledIssue
{
    public int Number { get; set; }
    public string Title { get; set; } = "";
    public string? Body { get; set; }
    public string? HtmlUrl { get; set; }
    public string? AuthorAssociation { get; set; }
    public PolledUser? User { get; set; }
    public IReadOnlyList<PolledLabel> Labels { get; set; } = [];
    public PolledPullRequestLink? PullRequest { get; set; }
}

public sealed class PolledUser
{
    public string Login { get; set; } = "";
}

public sealed class PolledLabel
{
    public string Name { get; set; } = "";
}

public sealed class PolledPullRequestLink
{
    public string? Url { get; set; }
}
