using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Orchestrator.Testing;
using Orchestrator.Testing.Llm;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// Each service connects as its own broker user (services/Broker/definitions.sh): with those permissions the system
/// works, and no service can publish what another service is trusted to say.
/// </summary>
[Collection(ProcessStack.Collection)]
public sealed class BrokerPermissionTests
{
    [Fact]
    public async Task With_each_service_as_its_own_broker_user_an_issue_becomes_a_pull_request()
    {
        await using var stack = await ProcessStack.StartAsync((VirtualHost?)null, null);
        var users = await BrokerUsers.CreateAsync(stack.Broker);
        foreach (var service in ProcessStack.AllServices)
            stack.PerService[service] = [("RABBITMQ_URL", users.UrlFor(service).ToString())];
        foreach (var service in ProcessStack.AllServices)
            await stack.StartAsync(service);
        stack.Llm.Script("Typo in the README").FixTheTypo();

        var issue = stack.GitHub.AddIssue("Typo in the README", "The title says Widgts.", [ProcessStack.Label]);

        var pull = await stack.PullRequestForAsync(issue.Number);
        Assert.Equal(TypoFix.FixedReadme, stack.FileOnBranch(pull.Head, "README.md"));
        // Nothing was refused on the way: no service's log has the broker's ACCESS_REFUSED.
        Assert.All(stack.Running.Values, p => Assert.DoesNotContain("ACCESS_REFUSED", p.Output));
    }

    [Theory]
    [InlineData("intake", "ChangesProposed", false)]
    [InlineData("intake", "PullRequestOpened", false)]
    [InlineData("intake", "WorkItemAccepted", true)]
    [InlineData("toolgateway", "ChangesProposed", false)]
    [InlineData("toolgateway", "WorkItemAccepted", false)]
    [InlineData("planner", "PullRequestOpened", false)]
    [InlineData("planner", "ChangesProposed", true)]
    [InlineData("publisher", "WorkItemCancelled", false)]
    [InlineData("publisher", "PullRequestOpened", true)]
    public async Task A_service_user_may_publish_only_its_own_messages(string service, string message, bool allowed)
    {
        await using var host = await RabbitMqBroker.CreateVirtualHostAsync();
        var users = await BrokerUsers.CreateAsync(host);
        var exchange = $"Orchestrator.Contracts:{message}";
        // The exchange exists (declared by whoever may), so only the right to write to it is in question.
        await using (var admin = await new ConnectionFactory { Uri = host.Url }.CreateConnectionAsync(TestContext.Current.CancellationToken))
        await using (var channel = await admin.CreateChannelAsync(cancellationToken: TestContext.Current.CancellationToken))
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, cancellationToken: TestContext.Current.CancellationToken);

        await using var connection = await new ConnectionFactory { Uri = users.UrlFor(service) }.CreateConnectionAsync(TestContext.Current.CancellationToken);
        await using var publishing = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), TestContext.Current.CancellationToken);
        var publish = publishing.BasicPublishAsync(exchange, "", "{}"u8.ToArray(), TestContext.Current.CancellationToken).AsTask();

        if (allowed)
            await publish;
        else
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => publish);
            var close = Assert.IsType<AlreadyClosedException>(refused, exactMatch: false).ShutdownReason;
            Assert.Equal((ushort)403, close?.ReplyCode);
            Assert.Contains("ACCESS_REFUSED", close?.ReplyText);
        }
    }
}
