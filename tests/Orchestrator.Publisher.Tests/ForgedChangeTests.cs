using MassTransit;
using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.Publisher.Tests;

/// <summary>
/// Anyone who can publish on the broker can send Publisher a ChangesProposed. What it says is checked against the work
/// item Intake accepted; a change that does not match is refused, writes nothing and lands in the _error queue.
/// </summary>
public sealed class ForgedChangeTests
{
    private const string ErrorQueue = "publisher-changes-proposed_error";

    [Fact]
    public async Task A_change_for_a_work_item_never_accepted_writes_nothing_and_lands_in_the_error_queue()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        var publisher = await rig.StartPublisherAsync();

        await rig.Recorder.Publish(rig.Proposed(NewId.NextGuid(), issue, new ChangedFile("GREETING.md", FileChange.Added, "Hello\n")));

        await WaitForErrorQueueAsync(rig, 1);
        Assert.Empty(Writes(rig));
        Assert.Contains(publisher.Logs, l => l.Contains("which Publisher has not seen accepted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_change_naming_main_or_another_repository_is_refused_and_the_real_change_still_publishes()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        var publisher = await rig.StartPublisherAsync();
        var id = NewId.NextGuid();
        await rig.Recorder.Publish(rig.Accepted(id, issue));
        // The accepted work item shows on its issue: the status comment, then the label (each a write of its own).
        var writesBefore = (await Eventually.Until(() => Task.FromResult(Writes(rig)), w => w.Count == 2, PublisherRig.Timeout,
            "the status comment and the in-progress label")).Count;
        var genuine = rig.Proposed(id, issue, new ChangedFile("GREETING.md", FileChange.Added, "Hello\n"));

        // The force-move of main the attacker wanted, another repository, and another issue's branch.
        await rig.Recorder.Publish(genuine with { WorkBranch = "main" });
        await rig.Recorder.Publish(genuine with { Repository = "victim-org/private-infra" });
        await rig.Recorder.Publish(genuine with { WorkBranch = $"orchestrator/issue-{issue + 1}" });

        await WaitForErrorQueueAsync(rig, 3);
        Assert.Equal(writesBefore, Writes(rig).Count);
        Assert.Equal(rig.BaseCommit, await rig.GitHub.Git.ResolveAsync("refs/heads/main"));
        Assert.Equal(3, publisher.Logs.Count(l => l.Contains("proposed change refused, nothing written", StringComparison.Ordinal)));
        Assert.Empty(rig.Recorder.All<WorkItemFailed>());

        await rig.Recorder.Publish(genuine);
        var opened = await rig.Recorder.WaitFor<PullRequestOpened>(o => o.CorrelationId == id, PublisherRig.Timeout);
        Assert.Equal($"orchestrator/issue-{issue}", opened.Branch);
        Assert.Equal(rig.BaseCommit, await rig.GitHub.Git.ResolveAsync("refs/heads/main"));
    }

    [Fact]
    public async Task An_accepted_work_item_for_a_repository_outside_the_allow_list_gets_nothing_written()
    {
        await using var rig = await PublisherRig.StartAsync();
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        var publisher = await rig.StartPublisherAsync(("REPOSITORIES", "acme/other"));
        var id = NewId.NextGuid();

        await rig.ProposeAsync(id, issue, new ChangedFile("GREETING.md", FileChange.Added, "Hello\n"));

        await WaitForErrorQueueAsync(rig, 1);
        await Eventually.Until(() => Task.FromResult(publisher.Logs.Any(l => l.Contains("is not in REPOSITORIES: its issue is not written to", StringComparison.Ordinal))),
            seen => seen, PublisherRig.Timeout, "Publisher to pass over the issue");
        Assert.Empty(Writes(rig));
    }

    private static List<Testing.GitHub.RecordedRequest> Writes(PublisherRig rig) =>
        [.. rig.GitHub.Requests.Where(r => r.Method is "POST" or "PATCH" or "PUT" or "DELETE")];

    private static Task WaitForErrorQueueAsync(PublisherRig rig, int messages) =>
        Eventually.Until(rig.Broker.QueuesAsync, queues => queues.Any(q => q.Name == ErrorQueue && q.Messages == messages),
            PublisherRig.Timeout, $"{messages} message(s) in {ErrorQueue}");
}
