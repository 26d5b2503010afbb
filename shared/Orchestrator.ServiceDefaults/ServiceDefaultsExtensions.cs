using System.Diagnostics;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using Orchestrator.ServiceDefaults.Api;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Orchestrator.ServiceDefaults;

public static class HealthTags
{
    public const string Ready = "ready";
}

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// What every service has: OpenTelemetry traces, metrics and logs (exported over OTLP when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set) and health checks. <paramref name="service"/> is the service's short name
    /// ("Intake"); its spans come from the ActivitySource "Orchestrator.&lt;service&gt;".
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string service)
    {
        builder.Properties[ServiceKey] = service;
        builder.Logging.AddOpenTelemetry(logs =>
        {
            logs.IncludeFormattedMessage = true;
            logs.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(service.ToLowerInvariant(), serviceNamespace: "orchestrator"))
            .WithTracing(tracing => tracing
                .AddSource(ActivitySourceName(service))
                .AddSource(DiagnosticHeaders.DefaultListenerName)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(InstrumentationOptions.MeterName)
                .AddMeter(ActivitySourceName(service))
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // The SDK allocates every metric stream's points up front, for 2000 tag combinations by default: 70-odd
                // streams made that 12 MB of each host's heap. No instrument here comes near 200 (routes, message types,
                // status codes); combinations beyond it are still counted, under otel.metric.overflow.
                .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = MetricCardinalityLimit }));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy());
        builder.AddApiAccess();
        // Every API prints statuses by name, as README shows them.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        return builder;
    }

    public static string ActivitySourceName(string service) => $"Orchestrator.{service}";

    /// <summary>The most tag combinations a metric keeps apart (the SDK's default is 2000).</summary>
    public const int MetricCardinalityLimit = 200;

    private const string ServiceKey = "Orchestrator.Service";

    /// <summary>The short name given to <see cref="AddServiceDefaults"/>.</summary>
    public static string ServiceName(this IHostApplicationBuilder builder) =>
        builder.Properties.TryGetValue(ServiceKey, out var name) && name is string service
            ? service
            : throw new InvalidOperationException("Call AddServiceDefaults before adding the service's parts.");

    /// <summary>
    /// Who may call the API (<see cref="ApiAccess"/>), and the health endpoints, open to anyone: /health/live answers while
    /// the process runs; /health/ready when the broker and database answer too.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseApiAccess();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Name == "self" }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(HealthTags.Ready) }).AllowAnonymous();
        return app;
    }

    /// <summary>
    /// Validates every option before anything starts and runs the service. A bad setting stops it with exit code 2 and
    /// one line on stderr that names the setting.
    /// </summary>
    public static async Task<int> RunServiceAsync(this WebApplication app)
    {
        var error = ConfigurationError(app.Services);
        if (error is not null)
        {
            await Console.Error.WriteLineAsync($"{app.Environment.ApplicationName}: configuration error: {error}");
            return 2;
        }
        await app.RunAsync();
        return 0;
    }

    /// <summary>The one-line description of what is wrong with the configuration, or null when nothing is.</summary>
    public static string? ConfigurationError(IServiceProvider services)
    {
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return null;
        }
        catch (OptionsValidationException e)
        {
            return string.Join("; ", e.Failures.Distinct());
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OptionsValidationException))
        {
            return string.Join("; ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(x => x.Failures).Distinct());
        }
        catch (InvalidOperationException e) when (e.Source == "Microsoft.Extensions.Configuration.Binder")
        {
            // The binder names the key of a value it cannot convert, and the value too, which is not repeated here.
            return Regex.Replace(e.Message.Split('\n')[0], "value '.*' at '", "value at '");
        }
    }
}

/// <summary>A service's own spans, tagged with the work item they belong to.</summary>
public static class WorkItemActivity
{
    public const string CorrelationIdTag = "orchestrator.correlation_id";

    public static Activity? Start(this ActivitySource source, string name, Guid correlationId, ActivityKind kind = ActivityKind.Internal)
    {
        var activity = source.StartActivity(name, kind);
        activity?.SetTag(CorrelationIdTag, correlationId);
        return activity;
    }
}
