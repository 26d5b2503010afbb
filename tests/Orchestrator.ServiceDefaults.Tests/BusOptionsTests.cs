namespace Orchestrator.ServiceDefaults.Tests;

public sealed class BusOptionsTests
{
    [Theory]
    [InlineData("amqp://guest:guest@localhost:5672/")]
    [InlineData("amqps://user:pass@broker.example.com:5671/orchestrator")]
    [InlineData("amqp://rabbitmq")]
    public void A_well_formed_amqp_url_is_accepted(string url) =>
        Assert.Empty(new BusOptions { RabbitMqUrl = url }.Validate());

    [Fact]
    public void The_in_memory_transport_needs_no_url() =>
        Assert.Empty(new BusOptions { Transport = BusOptions.InMemory }.Validate());

    [Fact]
    public void An_unknown_transport_is_named() =>
        Assert.Equal(["BUS_TRANSPORT must be 'rabbitmq' or 'inmemory'"], new BusOptions { Transport = "kafka", RabbitMqUrl = "amqp://x" }.Validate());
}
