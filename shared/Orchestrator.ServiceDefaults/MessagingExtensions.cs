using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Orchestrator.ServiceDefaults;

public sealed class BusOptions : IValidatedOptions
{
    public const string RabbitMq = "rabbitmq";
    public const string InMemory = "inmemory";

    /// <summary><c>rabbitmq</c> (default) or <c>inmemory</c>, which only reaches consumers in the same process.</summary>
    [ConfigurationKeyName("BUS_TRANSPORT")]
    public string Transport { get; set; } = RabbitMq;

    /// <summary>amqp://user:password@host:5672/vhost</summary>
    [ConfigurationKeyName("RABBITMQ_URL")]
    public string? RabbitMqUrl { get; set; }

    /// <summary>How long a service waits for the broker when it starts, before it starts anyway, not ready, and connects later.</summary>
    [ConfigurationKeyName("BUS_START_WAIT")]
    public TimeSpan StartWait { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate()
    {
        if (StartWait < TimeSpan.Zero)
            yield return "BUS_START_WAIT must not be negative";
        if (Transport is not (RabbitMq or InMemory))
            yield return $"BUS_TRANSPORT must be '{RabbitMq}' or '{InMemory}'";
        else if (Transport == RabbitMq && string.IsNullOrWhiteSpace(RabbitMqUrl))
            yield return "RABBITMQ_URL is required (amqp://user:password@host:5672/vhost)";
        else if (Transport == RabbitMq && !Setting.IsAbsoluteUri(RabbitMqUrl, "amqp", "amqps"))
            yield return "RABBITMQ_URL is not a valid amqp:// or amqps:// URL";
    }
}

public static class MessagingExtensions
{
    /// <summary>
    /// The one bus configuration every service uses: RabbitMQ (or in-memory for development), kebab-case endpoint
    /// names, one retry policy and the in-memory outbox on every endpoint. Services add consumers and request clients in
    /// <paramref name="configure"/>; <paramref name="endpoints"/> is for the rare endpoint that is not one-per-consumer.
    /// </summary>
    public static IHostApplicationBuilder AddOrchestratorBus(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> configure,
        Action<IBusRegistrationContext, IBusFactoryConfigurator>? endpoints = null)
    {
        builder.Services.AddValidatedOptions<BusOptions>(builder.Configuration);
        var inMemory = string.Equals(builder.Configuration["BUS_TRANSPORT"], BusOptions.InMemory, StringComparison.OrdinalIgnoreCase);

        // The bus starts in the background and keeps trying while the broker is unreachable: the service starts and stays up,
        // not ready, until it connects (BusStartup waits a while for it, so that normally a message published right after
        // start finds its queue).
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StartTimeout = null;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        var serviceName = builder.ServiceName().ToLowerInvariant();
        builder.Services.AddMassTransit(bus =>
        {
            // Queues carry the service's name: Intake and Publisher both consume WorkItemFailed, and each needs its own copy.
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(serviceName + "-", false));
            bus.AddConfigureEndpointsCallback((context, _, endpoint) => endpoint.UseEndpointDefaults(context));
            // MassTransit 8.4+ otherwise reports anonymous usage to its makers five minutes after start (an HTTPS call
            // out of the deployment, after probing cloud metadata endpoints), which also leaves ~10 MB per host behind.
            bus.DisableUsageTelemetry();
            configure(bus);

            if (inMemory)
            {
                bus.UsingInMemory((context, cfg) =>
                {
                    endpoints?.Invoke(context, cfg);
                    cfg.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingRabbitMq((context, cfg) =>
                {
                    // The bus is built before the options are validated (the health checks resolve it), so a bad URL must
                    // not throw here: validation reports it and the bus is never started.
                    var url = context.GetRequiredService<IConfiguration>().Get<BusOptions>()?.RabbitMqUrl;
                    cfg.Host(Setting.IsAbsoluteUri(url, "amqp", "amqps") ? new Uri(url!) : new Uri("amqp://unconfigured.invalid/"));
                    // The bus endpoint's queue, where responses arrive, outlives a broker restart (see ReplicaEndpoint;
                    // with an expiration, MassTransit declares the queue expiring rather than auto-deleted, and only its
                    // exchange auto-deleted).
                    cfg.Durable = true;
                    cfg.AutoDelete = true;
                    cfg.Exclusive = false;
                    cfg.QueueExpiration = OwnQueueExpiration;
                    // Named for its service (MassTransit's default is host_process_bus_…, the same "dotnet" for every
                    // service), so that each service's broker user may be given its own queues and no other's.
                    cfg.OverrideDefaultBusEndpointQueueName($"{serviceName}-bus-{NewId.NextGuid():N}");
                    endpoints?.Invoke(context, cfg);
                    cfg.ConfigureEndpoints(context);
                });
            }
        });
        // After MassTransit's own hosted service, so it starts after the bus has been told to.
        builder.Services.AddHostedService<BusStartup>();
        return builder;
    }

    /// <summary>
    /// Retries cover transient faults (a locked database, a broker hiccup); a message that still fails, or is refused
    /// (<see cref="MessageRefusedException"/>, never retried), goes to the endpoint's _error queue, where nothing is lost. The outbox holds a consumer's messages until it succeeds.
    /// </summary>
    private static void UseEndpointDefaults(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        endpoint.UseMessageRetry(r =>
        {
            r.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
            r.Ignore<MessageRefusedException>();
        });
        endpoint.UseInMemoryOutbox(context);
    }

    /// <summary>
    /// How long a queue of one process's own (the bus endpoint's, a replica's) waits for its consumer before RabbitMQ
    /// removes it: well over a broker restart and MassTransit's reconnect schedule (every 3 to 30 s per endpoint).
    /// </summary>
    public static readonly TimeSpan OwnQueueExpiration = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Makes a receive endpoint of this process alone (a replica's copy of a broadcast) outlive a broker restart, as the
    /// bus endpoint's queue does: durable, its exchange auto-deleted, the queue expiring <see cref="OwnQueueExpiration"/>
    /// after its consumer is gone. A temporary queue instead goes with the broker, and what is published before its
    /// process reconnects (up to 30 s later) is dropped.
    /// </summary>
    public static void OutlivesBrokerRestarts(this IReceiveEndpointConfigurator endpoint)
    {
        if (endpoint is not IRabbitMqReceiveEndpointConfigurator rabbit)
            return;
        rabbit.Durable = true;
        rabbit.AutoDelete = true;
        rabbit.Exclusive = false;
        rabbit.QueueExpiration = OwnQueueExpiration;
    }

    /// <summary>
    /// A queue of this replica alone, for requests that must reach the replica holding some state (a workspace). It is
    /// bound to no message type, so only what is sent to its address arrives, and it goes some time after the replica.
    /// </summary>
    /// <remarks>
    /// Like the bus endpoint's queue (where responses arrive), it is durable, not auto-deleted but expiring
    /// (<see cref="OwnQueueExpiration"/>), and its exchange durable and auto-deleted (gone with the queue's binding): a
    /// broker restart keeps it. A transient or auto-deleted queue does not survive one (RabbitMQ deletes an auto-delete
    /// queue when the shutdown closes its consumer's connection), and it comes back only when its endpoint reconnects,
    /// each endpoint on its own schedule, up to 30 s after the broker: whatever a peer sent it meanwhile, a request or
    /// a response, was dropped, and its sender waited out its whole timeout.
    /// </remarks>
    public static void ReplicaEndpoint(
        this IBusFactoryConfigurator cfg, IBusRegistrationContext context, string queueName, Action<IReceiveEndpointConfigurator> configure)
    {
        cfg.ReceiveEndpoint(queueName, endpoint =>
        {
            endpoint.ConfigureConsumeTopology = false;
            endpoint.OutlivesBrokerRestarts();
            // The configure-endpoints callback only reaches endpoints ConfigureEndpoints creates, so apply it here too.
            endpoint.UseEndpointDefaults(context);
            configure(endpoint);
        });
    }
}
