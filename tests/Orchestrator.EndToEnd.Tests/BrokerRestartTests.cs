using Orchestrator.Testing;

namespace Orchestrator.EndToEnd.Tests;

[Collection(ProcessStack.Collection)]
public sealed class BrokerRestartTests
{
    [Fact]
    public async Task RabbitMQ_restarted_mid_run_the_services_reconnect_and_the_issue_gets_one_pull_request()
    {
        await using var rabbit = await PrivateRabbitMq.StartAsync();
        var broker = await RabbitMqBroker.CreateVirtualHostAsync(broker: (rabbit.Url, rabbit.ManagementUrl));
        await using var stack = await ProcessStack.StartAsync(broker, null, ProcessStack.AllServices);
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        stack.Llm.Script("Typo in the README")
            .Then(ProcessStack.TypoFixer)
            .WaitFor(gate.Task, ProcessStack.TypoFixer, reached)
            .Otherwise(ProcessStack.TypoFixer);
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        await rabbit.RestartAsync();
        gate.SetResult();

        var pull = await stack.PullRequestForAsync(issue.Number);
        Assert.Equal([pull.Number], stack.GitHub.PullRequests.Select(p => p.Number));
        Assert.Equal("# Widgets\n\nSmall widgets.\n", stack.FileOnBranch(pull.Head, "README.md"));
        await Eventually.Until(() => Docker.ContainersAsync(stack.Deployment), c => c.Count == 0, ProcessStack.Timeout, "the MCP containers to be removed");
    }
}
