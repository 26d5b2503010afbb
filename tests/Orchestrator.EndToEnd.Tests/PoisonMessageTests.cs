using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.EndToEnd.Tests;

[Collection(ProcessStack.Collection)]
public sealed class PoisonMessageTests
{
    [Fact]
    public async Task A_poison_message_on_every_service_queue_lands_in_its_error_queue_and_the_services_keep_working()
    {
        await using var stack = await ProcessStack.StartAsync(ProcessStack.AllServices);
        // Every durable queue the services consume from, by its service prefix (replica and instance queues included).
        var queues = (await stack.Broker.QueuesAsync()).Select(q => q.Name)
            .Where(q => ProcessStack.AllServices.Any(s => q.StartsWith(s.ToLowerInvariant() + "-", StringComparison.Ordinal)) && !q.EndsWith("_error", StringComparison.Ordinal))
            .ToList();
        Assert.All(ProcessStack.AllServices, s => Assert.Contains(queues, q => q.StartsWith(s.ToLowerInvariant() + "-", StringComparison.Ordinal)));

        // Bytes that claim to be a MassTransit message and are not: no retry can ever make them one.
        foreach (var queue in queues)
            await stack.Broker.PublishRawAsync(queue, "\u0001 not a message", "application/vnd.masstransit+json");
        // Moved, then acknowledged: for a moment a message is in both queues (unacknowledged in its own), so both are waited for.
        var errors = await Eventually.Until(stack.Broker.QueuesAsync,
            all => queues.All(q => all.Any(e => e.Name == q + "_error" && e.Messages == 1) && all.Single(e => e.Name == q).Messages == 0),
            ProcessStack.Timeout, "each poison message to leave its queue for the queue's _error queue");
        Assert.All(queues, q => Assert.Equal(1, errors.Single(e => e.Name == q + "_error").Messages));

        // The services are still there: a work item goes all the way.
        stack.Llm.Script("Typo in the README").FixTheTypo();
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await stack.PullRequestForAsync(issue.Number);
    }
}
