using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.Publisher.Tests;

/// <summary>Publisher against GitHub as it really answers: errors in errors[], lists in pages, refs matched by prefix.</summary>
public sealed class GitHubShapesTests
{
    private static readonly ChangedFile Greeting = new("GREETING.md", FileChange.Added, "Hello!\n");

    [Fact]
    public async Task A_pull_request_that_already_exists_though_unlisted_is_found_and_updated_not_a_failed_publish()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        await rig.StartPublisherAsync();
        var (first, second) = (NewId.NextGuid(), NewId.NextGuid());
        await rig.ProposeAsync(first, issue, Greeting);
        var opened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == first, PublisherRig.Timeout);

        // The retry's listing finds nothing (GitHub's list lags), so its create meets GitHub's 422 with errors[].
        rig.GitHub.MissNextPullRequestListing();
        await rig.Recorder.Publish(rig.Accepted(second, issue));
        await rig.Recorder.Publish(rig.Proposed(second, issue, Greeting with { Content = "Hello, world!\n" }) with { PullRequestTitle = "Greet the world" });
        var reopened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == second, PublisherRig.Timeout);

        Assert.Equal(opened.Number, reopened.Number);
        var pull = Assert.Single(rig.GitHub.PullRequests);
        Assert.Equal("Greet the world", pull.Title);
        Assert.Contains(rig.GitHub.Requests, r => r is { Method: "POST", Status: 422 } && r.Path.EndsWith("/pulls", StringComparison.Ordinal));
        Assert.Empty(rig.Recorder.All<WorkItemFailed>());
        // Recovered where it happened: the publish was not failed and redone (which would build the commit again).
        Assert.Equal(2, rig.GitHub.Requests.Count(r => r.Method == "POST" && r.Path.EndsWith("/git/commits", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_status_comment_on_the_third_page_of_comments_is_found_and_edited_not_duplicated()
    {
        await using var rig = await PublisherRig.StartAsync();
        rig.GitHub.PageSizeLimit = 30;
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        var id = NewId.NextGuid();
        for (var i = 0; i < 65; i++)
            rig.GitHub.AddComment(issue, $"Comment {i}");
        // Written by a Publisher that died before it could record the comment's id: only the marker finds it.
        var earlier = rig.GitHub.AddComment(issue, $"### Orchestrator: accepted\n\n<!-- orchestrator:work-item:{id:D} -->", "orchestrator[bot]");
        await rig.StartPublisherAsync();

        await rig.Recorder.Publish(rig.Accepted(id, issue));
        await rig.Recorder.Publish(new WorkItemPlanned(id, "Add GREETING.md.", ["Write GREETING.md"]));

        await Eventually.Until(() => Task.FromResult(rig.GitHub.CommentsOn(issue).Single(c => c.Id == earlier.Id).Body),
            body => body.Contains("Write GREETING.md", StringComparison.Ordinal), PublisherRig.Timeout, "the earlier status comment to show the plan");
        Assert.Equal(66, rig.GitHub.CommentsOn(issue).Count);
        Assert.Contains(rig.GitHub.Requests, r => r.Method == "GET" && r.Path.EndsWith("/comments", StringComparison.Ordinal) && r.Query.Contains("page=3"));
    }

    [Fact]
    public async Task A_branch_whose_name_begins_another_branch_is_looked_up_exactly()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        // orchestrator/issue-{n}0 is there, orchestrator/issue-{n} is not: a look-up by prefix finds the wrong one.
        var longer = $"refs/heads/orchestrator/issue-{issue}0";
        await rig.GitHub.Git.SetRefAsync(longer, rig.BaseCommit);
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.ProposeAsync(id, issue, Greeting);

        var opened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == id, PublisherRig.Timeout);
        Assert.Equal($"orchestrator/issue-{issue}", opened.Branch);
        Assert.Equal(rig.BaseCommit, await rig.GitHub.Git.ResolveAsync(longer));
        Assert.NotNull(await rig.GitHub.Git.ReadFileAsync((await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}"))!, "GREETING.md"));
        // Looked up by the exact path; the old one (git/refs/...) is documented to match by prefix.
        Assert.Contains(rig.GitHub.Requests, r => r.Method == "GET" && r.Path.EndsWith($"/git/ref/heads/orchestrator/issue-{issue}", StringComparison.Ordinal));
        Assert.DoesNotContain(rig.GitHub.Requests, r => r.Method == "GET" && r.Path.Contains("/git/refs/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(429, "Retry-After", "1")]
    [InlineData(403, "Retry-After", "1")]
    public async Task A_rate_limited_write_is_waited_out_and_the_pull_request_opens_once(int status, string header, string value)
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        // The pull request's create is refused once as GitHub's secondary limit refuses writes.
        rig.GitHub.RateLimit("POST", "/pulls", 1, status, new Dictionary<string, string> { [header] = value });
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.ProposeAsync(id, issue, Greeting);

        await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == id, PublisherRig.Timeout);
        Assert.Single(rig.GitHub.PullRequests);
        var creates = rig.GitHub.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/pulls", StringComparison.Ordinal)).ToList();
        Assert.Equal([status, 201], creates.Select(r => r.Status));
        Assert.True(creates[1].At - creates[0].At >= TimeSpan.FromSeconds(1), "the retry did not wait for Retry-After");
    }

    [Fact]
    public async Task A_repository_GitHub_calls_empty_fails_the_work_item_with_that_reason_not_a_retried_message()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        rig.GitHub.EmptyRepository = true;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.ProposeAsync(id, issue, Greeting);

        var failed = await rig.Recorder.WaitFor<WorkItemFailed>(f => f.CorrelationId == id, PublisherRig.Timeout);
        Assert.Equal("repository-empty", failed.Reason);
        Assert.Contains("Git Repository is empty", failed.Detail);
        Assert.Single(rig.GitHub.Requests, r => r.Method == "GET" && r.Path.Contains("/git/commits/", StringComparison.Ordinal));
        Assert.Empty(rig.GitHub.PullRequests);
    }
}
