using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.Publisher.Tests;

public sealed class GitHubPublishingTests
{
    private static readonly ChangedFile Greeting = new("GREETING.md", FileChange.Added, "Hello!\n");

    [Fact]
    public async Task Status_comment_is_edited_in_place_and_a_redelivered_ChangesProposed_writes_nothing_twice()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting", labels: ["orchestrator:work-item"]).Number;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();
        var commitsBefore = (await rig.GitHub.Git.AllCommitsAsync()).Count;

        await rig.Recorder.Publish(rig.Accepted(id, issue));
        await rig.SingleCommentAsync(issue, b => b.Contains("accepted, planning", StringComparison.Ordinal), "the accepted status comment");
        await Eventually.Until(() => Task.FromResult(rig.GitHub.LabelsOf(issue)), l => l.Contains("orchestrator:in-progress"), PublisherRig.Timeout, "the in-progress label");

        await rig.Recorder.Publish(new WorkItemPlanned(id, "Add a greeting file.", ["Write GREETING.md", "Say hello in it"]));
        await rig.SingleCommentAsync(issue, b => b.Contains("- [ ] Write GREETING.md", StringComparison.Ordinal), "the plan as a checklist");

        var change = rig.Proposed(id, issue, Greeting);
        await rig.Recorder.Publish(change);
        await rig.Recorder.Publish(change);
        await Eventually.Until(() => Task.FromResult(rig.Recorder.All<PullRequestOpened>().Count()), n => n == 2, PublisherRig.Timeout, "both deliveries answered");

        var pull = Assert.Single(rig.GitHub.PullRequests);
        Assert.Equal($"orchestrator/issue-{issue}", pull.Head);
        Assert.Equal("main", pull.Base);
        Assert.Contains($"Fixes #{issue}", pull.Body);
        Assert.Contains("- Write GREETING.md", pull.Body);
        Assert.Contains("1,200 input + 340 output tokens", pull.Body);
        Assert.All(rig.Recorder.All<PullRequestOpened>(), o => Assert.Equal(pull.Number, o.Number));

        // One commit, on the base, holding the file; the branch points at it.
        var commits = await rig.GitHub.Git.AllCommitsAsync();
        Assert.Equal(commitsBefore + 1, commits.Count);
        var head = await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}");
        var commit = (await rig.GitHub.Git.ReadCommitAsync(head!))!;
        Assert.Equal([rig.BaseCommit], commit.Parents);
        Assert.Equal("Hello!\n", await rig.GitHub.Git.ShowAsync($"{head}:GREETING.md"));
        Assert.Equal("# Widgets\n", await rig.GitHub.Git.ShowAsync($"{head}:README.md"));

        var comment = await rig.SingleCommentAsync(issue, b => b.Contains("pull request opened", StringComparison.Ordinal), "the pull request on the comment");
        Assert.Contains("- [x] Write GREETING.md", comment.Body);
        Assert.Contains("$0.0123", comment.Body);
        Assert.Contains("42.0 s", comment.Body);
        await Eventually.Until(() => Task.FromResult(rig.GitHub.LabelsOf(issue)),
            l => l.Contains("orchestrator:done") && !l.Contains("orchestrator:in-progress"), PublisherRig.Timeout, "the done label alone");
    }

    [Fact]
    public async Task A_change_to_a_protected_path_is_refused_with_a_comment_and_nothing_is_written()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Speed up CI").Number;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();
        var commitsBefore = (await rig.GitHub.Git.AllCommitsAsync()).Count;

        await rig.ProposeAsync(id, issue, Greeting, new ChangedFile(".github/workflows/ci.yml", FileChange.Modified, "on: [push, pull_request]\n"));

        var failed = await rig.Recorder.WaitFor<WorkItemFailed>(f => f.CorrelationId == id, PublisherRig.Timeout);
        Assert.Equal("publish-refused", failed.Reason);
        Assert.Contains("`.github/workflows/ci.yml` is a protected path (.github/workflows/**)", failed.Detail);
        var comment = await rig.SingleCommentAsync(issue, b => b.Contains("failed", StringComparison.Ordinal), "the refusal on the issue");
        Assert.Contains("protected path", comment.Body);
        await Eventually.Until(() => Task.FromResult(rig.GitHub.LabelsOf(issue)),
            l => l.Contains("orchestrator:failed") && !l.Contains("orchestrator:in-progress"), PublisherRig.Timeout, "the failed label");

        Assert.Empty(rig.GitHub.PullRequests);
        Assert.Null(await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}"));
        Assert.Equal(commitsBefore, (await rig.GitHub.Git.AllCommitsAsync()).Count);
        Assert.DoesNotContain(rig.GitHub.Requests, r => r.Path.Contains("/git/", StringComparison.Ordinal) && r.Method != "GET");
    }

    [Fact]
    public async Task A_secret_in_the_change_is_refused_without_repeating_it()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Configure the client").Number;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();
        var secret = "ghp_" + new string('a', 36);

        await rig.ProposeAsync(id, issue, new ChangedFile("config.json", FileChange.Added, $"{{ \"token\": \"{secret}\" }}\n"));

        var failed = await rig.Recorder.WaitFor<WorkItemFailed>(f => f.CorrelationId == id, PublisherRig.Timeout);
        Assert.Contains("`config.json` looks like it contains a secret (GitHub token)", failed.Detail);
        var comment = await rig.SingleCommentAsync(issue, b => b.Contains("GitHub token", StringComparison.Ordinal), "the refusal on the issue");
        Assert.DoesNotContain(secret, comment.Body);
        Assert.DoesNotContain(secret, failed.Detail);
        Assert.Empty(rig.GitHub.PullRequests);
    }

    [Fact]
    public async Task A_secret_line_the_file_already_had_is_not_blamed_on_the_change_but_a_new_one_is()
    {
        var existing = "AWS_KEY=AKIAABCDEFGHIJKLMNOP";
        await using var rig = await PublisherRig.StartAsync(seed => seed.Write("config.env", $"{existing}\n"));
        var issues = new[] { rig.GitHub.AddIssue("Greet").Number, rig.GitHub.AddIssue("Greet again").Number };
        await rig.StartPublisherAsync();
        var (kept, added) = (NewId.NextGuid(), NewId.NextGuid());

        await rig.Recorder.Publish(rig.Accepted(kept, issues[0]));
        await rig.Recorder.Publish(rig.Accepted(added, issues[1]));
        // The diff the message carries claims nothing was added: the policy reads the files, and the base from GitHub.
        await rig.Recorder.Publish(rig.Proposed(kept, issues[0], new ChangedFile("config.env", FileChange.Modified, $"{existing}\nGREETING=hello\n")));
        await rig.Recorder.Publish(rig.Proposed(added, issues[1],
            new ChangedFile("config.env", FileChange.Modified, $"{existing}\nOTHER=AKIAZYXWVUTSRQPONMLK\n")) with { Diff = "+GREETING=hello\n" });

        await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == kept, PublisherRig.Timeout);
        var failed = await rig.Recorder.WaitFor<WorkItemFailed>(f => f.CorrelationId == added, PublisherRig.Timeout);
        Assert.Equal("publish-refused", failed.Reason);
        Assert.Contains("`config.env` looks like it contains a secret (AWS access key)", failed.Detail);
        Assert.DoesNotContain("AKIAZYXWVUTSRQPONMLK", failed.Detail);
    }

    [Fact]
    public async Task Modes_bytes_and_any_path_name_reach_GitHub_as_proposed()
    {
        var png = PngBytes();
        await using var rig = await PublisherRig.StartAsync(seed => seed.Write("run.sh", "#!/bin/sh\necho hi\n", executable: true).Write("old.bin", [1, 2, 3]));
        var issue = rig.GitHub.AddIssue("Assets").Number;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.Recorder.Publish(rig.Accepted(id, issue));
        await rig.Recorder.Publish(rig.Proposed(id, issue,
            new ChangedFile("run.sh", FileChange.Modified, "#!/bin/sh\necho hello\n", GitFileMode.Executable),
            new ChangedFile("logo.png", FileChange.Added, null, GitFileMode.Regular, png),
            new ChangedFile("café.md", FileChange.Added, "Café\n"),
            new ChangedFile("docs/a file with spaces.md", FileChange.Added, "Spaces\n"),
            new ChangedFile("old.bin", FileChange.Deleted, null)));

        await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == id, PublisherRig.Timeout);
        var head = (await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}"))!;
        Assert.Equal("100755", await rig.GitHub.Git.ModeAsync(head, "run.sh"));
        Assert.Equal("#!/bin/sh\necho hello\n"u8.ToArray(), await rig.GitHub.Git.ReadFileAsync(head, "run.sh"));
        Assert.Equal(png, await rig.GitHub.Git.ReadFileAsync(head, "logo.png"));
        Assert.Equal("100644", await rig.GitHub.Git.ModeAsync(head, "logo.png"));
        Assert.Equal("Café\n"u8.ToArray(), await rig.GitHub.Git.ReadFileAsync(head, "café.md"));
        Assert.Equal("Spaces\n"u8.ToArray(), await rig.GitHub.Git.ReadFileAsync(head, "docs/a file with spaces.md"));
        Assert.Null(await rig.GitHub.Git.ReadFileAsync(head, "old.bin"));
    }

    /// <summary>A real PNG's opening bytes (signature, IHDR) and bytes that are not UTF-8.</summary>
    public static byte[] PngBytes() =>
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0xFF, 0xFE, 0x80];

    [Fact]
    public async Task Text_the_comment_quotes_cannot_make_links_images_html_or_mentions()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Greet").Number;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.Recorder.Publish(rig.Accepted(id, issue));
        await rig.Recorder.Publish(new WorkItemPlanned(id, "Ping @acme/admins ![t](https://evil.example/pixel.png) <img src=x onerror=y>",
            ["See [here](https://evil.example)\n# Heading", "`code`"]));

        var comment = await rig.SingleCommentAsync(issue, b => b.Contains("Ping", StringComparison.Ordinal), "the plan on the comment");
        Assert.Contains("Ping @\u200Bacme/admins \\!\\[t\\](https://evil.example/pixel.png) \\<img src=x onerror=y\\>", comment.Body);
        Assert.Contains("- [ ] See \\[here\\](https://evil.example) \\# Heading", comment.Body);
        Assert.Contains("- [ ] \\`code\\`", comment.Body);
    }

    [Fact]
    public async Task A_cancelled_work_item_publishes_nothing_and_says_so_on_the_issue()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        var publisher = await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.Recorder.Publish(rig.Accepted(id, issue));
        await rig.Recorder.Publish(new WorkItemCancelled(id, "octocat"));
        await rig.SingleCommentAsync(issue, b => b.Contains("cancelled by octocat", StringComparison.Ordinal), "the cancellation on the issue");
        await rig.Recorder.Publish(rig.Proposed(id, issue, Greeting));

        await Eventually.Until(() => Task.FromResult(publisher.Logs.Any(l => l.Contains("is Cancelled: its proposed change is not published", StringComparison.Ordinal))),
            seen => seen, PublisherRig.Timeout, "Publisher to pass over the change");
        Assert.Empty(rig.GitHub.PullRequests);
        Assert.DoesNotContain("orchestrator:in-progress", rig.GitHub.LabelsOf(issue));
    }

    [Fact]
    public async Task A_retried_issue_updates_its_existing_pull_request_instead_of_opening_another()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        await rig.StartPublisherAsync();
        var (first, second) = (NewId.NextGuid(), NewId.NextGuid());

        await rig.ProposeAsync(first, issue, Greeting);
        var opened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == first, PublisherRig.Timeout);

        await rig.ProposeAsync(second, issue, Greeting with { Content = "Hello, world!\n" });
        var reopened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == second, PublisherRig.Timeout);

        Assert.Equal(opened.Number, reopened.Number);
        var pull = Assert.Single(rig.GitHub.PullRequests);
        Assert.Equal(1, pull.Edits);
        Assert.Contains(StatusMarker(second), pull.Body);
        var head = await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}");
        Assert.Equal("Hello, world!\n", await rig.GitHub.Git.ShowAsync($"{head}:GREETING.md"));
        // Not a force-push: the retry's commit is on top of the first attempt's (the branch moved as a fast forward).
        var firstHead = (await rig.GitHub.Git.ReadCommitAsync(head!))!.Parents.Single();
        Assert.Equal(rig.BaseCommit, (await rig.GitHub.Git.ReadCommitAsync(firstHead))!.Parents.Single());
        Assert.Equal("Hello!\n", await rig.GitHub.Git.ShowAsync($"{firstHead}:GREETING.md"));
        Assert.DoesNotContain(rig.GitHub.Requests, r => r.Method == "PATCH" && r.Path.Contains("/git/refs/", StringComparison.Ordinal) && r.Body.Contains("\"force\":true", StringComparison.Ordinal));
        // One status comment per work item.
        await Eventually.Until(() => Task.FromResult(rig.GitHub.CommentsOn(issue)),
            c => c.Count == 2 && c.All(x => x.Body.Contains("pull request opened", StringComparison.Ordinal)), PublisherRig.Timeout, "two status comments");
    }

    [Fact]
    public async Task A_commit_a_person_pushed_to_the_branch_is_never_overwritten_by_a_retry()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        await rig.StartPublisherAsync();
        var (first, second) = (NewId.NextGuid(), NewId.NextGuid());
        await rig.ProposeAsync(first, issue, Greeting);
        await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == first, PublisherRig.Timeout);
        var mona = await rig.GitHub.Git.PushAsync($"orchestrator/issue-{issue}", "NOTES.md", "Mona's notes\n");
        var commitsBefore = (await rig.GitHub.Git.AllCommitsAsync()).Count;

        await rig.ProposeAsync(second, issue, Greeting with { Content = "Hello, world!\n" });

        var failed = await rig.Recorder.WaitFor<WorkItemFailed>(f => f.CorrelationId == second, PublisherRig.Timeout);
        Assert.Equal("branch-has-other-commits", failed.Reason);
        Assert.Contains($"({mona[..12]} by mona): it is not overwritten", failed.Detail);
        Assert.Equal(mona, await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}"));
        Assert.Equal(commitsBefore, (await rig.GitHub.Git.AllCommitsAsync()).Count);
        // The pull request is left as the person left it.
        Assert.Equal(0, Assert.Single(rig.GitHub.PullRequests).Edits);
    }

    [Fact]
    public async Task A_push_that_lands_while_Publisher_writes_is_kept_and_the_publish_fails_rather_than_overwrite_it()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        await rig.StartPublisherAsync();
        var (first, second) = (NewId.NextGuid(), NewId.NextGuid());
        await rig.ProposeAsync(first, issue, Greeting);
        await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == first, PublisherRig.Timeout);
        // The retry's commit is made on the head Publisher saw; a person pushes before Publisher moves the branch to it.
        var held = rig.GitHub.Hold("POST", "/git/commits");

        await rig.ProposeAsync(second, issue, Greeting with { Content = "Hello, world!\n" });
        await held.Reached.WaitAsync(PublisherRig.Timeout, TestContext.Current.CancellationToken);
        var mona = await rig.GitHub.Git.PushAsync($"orchestrator/issue-{issue}", "NOTES.md", "Mona's notes\n");
        held.Release();

        var failed = await rig.Recorder.WaitFor<WorkItemFailed>(f => f.CorrelationId == second, PublisherRig.Timeout);
        Assert.Equal("branch-has-other-commits", failed.Reason);
        Assert.Equal(mona, await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}"));
        // The move was asked as a fast forward, and refused as one.
        Assert.Contains(rig.GitHub.Requests, r => r.Method == "PATCH" && r.Path.Contains("/git/refs/", StringComparison.Ordinal) && r.Status == 422);
    }

    [Fact]
    public async Task Publisher_killed_mid_publish_ends_with_one_pull_request_and_one_status_comment()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        var id = NewId.NextGuid();
        var commitsBefore = (await rig.GitHub.Git.AllCommitsAsync()).Count;
        // The pull request is created on GitHub, and then Publisher dies before it hears so.
        var held = rig.GitHub.Hold("POST", "/pulls");

        var first = ServiceProcess.Start("Publisher", rig.Settings());
        await using (first)
        {
            await first.WaitUntilStartedAsync(PublisherRig.Timeout);
            await rig.ProposeAsync(id, issue, Greeting);
            await held.Reached.WaitAsync(PublisherRig.Timeout, TestContext.Current.CancellationToken);
            Assert.Single(rig.GitHub.PullRequests);
            first.Kill();
            held.Release();
        }

        await using var second = ServiceProcess.Start("Publisher", rig.Settings());
        var opened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == id, PublisherRig.Timeout);

        var pull = Assert.Single(rig.GitHub.PullRequests);
        Assert.Equal(pull.Number, opened.Number);
        Assert.Equal(commitsBefore + 1, (await rig.GitHub.Git.AllCommitsAsync()).Count);
        await rig.SingleCommentAsync(issue, b => b.Contains("pull request opened", StringComparison.Ordinal), "one status comment showing the pull request");
        Assert.Single(rig.GitHub.Requests, r => r.Method == "POST" && r.Path.EndsWith($"/issues/{issue}/comments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deleted_file_is_gone_from_the_published_commit()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Replace the README").Number;
        await rig.StartPublisherAsync();
        var id = NewId.NextGuid();

        await rig.ProposeAsync(id, issue, Greeting, new ChangedFile("README.md", FileChange.Deleted, null));
        await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == id, PublisherRig.Timeout);

        var head = await rig.GitHub.Git.ResolveAsync($"refs/heads/orchestrator/issue-{issue}");
        Assert.Equal("Hello!\n", await rig.GitHub.Git.ShowAsync($"{head}:GREETING.md"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => rig.GitHub.Git.ShowAsync($"{head}:README.md"));
        Assert.Equal("on: push\n", await rig.GitHub.Git.ShowAsync($"{head}:.github/workflows/ci.yml"));
    }

    private static string StatusMarker(Guid id) => $"<!-- orchestrator:work-item:{id:D} -->";
}
