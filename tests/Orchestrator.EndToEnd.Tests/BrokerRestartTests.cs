using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;
using Orchestrator.Testing.Llm;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// RabbitMQ stopped and started again in the middle of a run, on a private node (the shared broker serves the rest of
/// the suite): the services reconnect and the work item still ends with exactly one pull request.
/// </summary>
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
        // The model's second answer (the plan, the README read) waits out the restart. Whatever the run asks after it
        // (the same attempt going on, or one started over if the replica counted as lost), a model without memory answers.
        stack.Llm.Script("Typo in the README")
            .Then(TypoFix.Fixer)
            .WaitFor(gate.Task, TypoFix.Fixer, reached)
            .Otherwise(TypoFix.Fixer);
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await reached.Task.WaitAsync(ProcessStack.Timeout, TestContext.Current.CancellationToken);

        // Every service is connected and in the middle of the run: the workspace is open, a tool call made, the model asked.
        await rabbit.RestartAsync();
        gate.SetResult();

        var pull = await WithBrokerLogAsync(rabbit, () => stack.PullRequestForAsync(issue.Number));
        await Eventually.Until(() => Task.FromResult(stack.GitHub.CommentsOn(issue.Number).SingleOrDefault()?.Body ?? ""),
            body => body.Contains("pull request opened", StringComparison.Ordinal), ProcessStack.Timeout, "the status comment to show the pull request");
        Assert.Equal([pull.Number], stack.GitHub.PullRequests.Select(p => p.Number));
        Assert.Equal(TypoFix.FixedReadme, stack.FileOnBranch(pull.Head, "README.md"));
        await Eventually.Until(() => Docker.ContainersAsync(stack.Deployment), c => c.Count == 0, ProcessStack.Timeout, "the MCP containers to be removed");
    }

    [Fact]
    public async Task Services_started_while_the_broker_is_down_stay_up_not_ready_and_work_once_it_comes()
    {
        await using var rabbit = await PrivateRabbitMq.StartAsync();
        var broker = await RabbitMqBroker.CreateVirtualHostAsync(broker: (rabbit.Url, rabbit.ManagementUrl));
        await using var stack = await ProcessStack.StartAsync(broker, [("BUS_START_WAIT", "00:00:02")]);
        await rabbit.StopNodeAsync();

        var services = new List<ServiceProcess>();
        foreach (var service in ProcessStack.AllServices)
            services.Add(await stack.StartAsync(service, waitForBus: false));
        foreach (var service in services)
        {
            await service.WaitForOutputAsync("The broker is not reachable yet", ProcessStack.Timeout);
            using var http = new HttpClient { BaseAddress = service.Address };
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready", TestContext.Current.CancellationToken)).StatusCode);
        }

        await rabbit.StartNodeAsync();

        foreach (var service in services)
        {
            using var http = new HttpClient { BaseAddress = service.Address };
            await Eventually.Until(async () => (await http.GetAsync("/health/ready", TestContext.Current.CancellationToken)).StatusCode,
                status => status == System.Net.HttpStatusCode.OK, ProcessStack.Timeout, $"{service.Name} to be ready", TimeSpan.FromMilliseconds(250));
        }
        Assert.All(services, s => Assert.False(s.HasExited, $"{s.Name} exited"));
        // The same processes, never restarted, do the work.
        stack.Llm.Script("Typo in the README").FixTheTypo();
        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);
        await WithBrokerLogAsync(rabbit, () => stack.PullRequestForAsync(issue.Number));
    }

    /// <summary>
    /// A timeout also shows when each service connected again, from the node's log: MassTransit says so only at Debug, so
    /// a service's own last lines are its reconnect attempts even when it is long back.
    /// </summary>
    private static async Task<FakePullRequest> WithBrokerLogAsync(PrivateRabbitMq rabbit, Func<Task<FakePullRequest>> wait)
    {
        try
        {
            return await wait();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n--- RabbitMQ connections:\n{rabbit.ConnectionLog()}", e);
        }
    }
}
