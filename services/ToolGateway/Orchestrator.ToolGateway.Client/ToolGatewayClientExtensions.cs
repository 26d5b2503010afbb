using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway.Client;

public static class ToolGatewayClientExtensions
{
    /// <summary>The client and the replica tracker it relies on (which the gateway's replicas use too).</summary>
    public static IServiceCollection AddToolGatewayClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ToolGatewayClientOptions>(configuration);
        services.AddGatewayReplicas();
        services.AddScoped<ToolGatewayClient>();
        return services;
    }

    public static IServiceCollection AddGatewayReplicas(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GatewayReplicas>();
        return services;
    }

    /// <summary>
    /// Heartbeats reach every instance: each gets a temporary queue of its own, gone when it stops. The replica tracker
    /// learns whether that queue's endpoint receives, so heartbeats it could not hear are not counted as missed.
    /// </summary>
    public static void AddGatewayReplicaHeartbeats(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<GatewayReplicaHeartbeatConsumer>().Endpoint(e =>
        {
            e.Temporary = true;
            e.InstanceId = Guid.NewGuid().ToString("N")[..12];
            e.AddConfigureEndpointCallback((context, endpoint) =>
                endpoint.ConnectReceiveEndpointObserver(new HeartbeatEndpointObserver(context.GetRequiredService<GatewayReplicas>())));
        });
}
