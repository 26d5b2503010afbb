using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Testing;

/// <summary>
/// One service started in this process the way its Program.cs starts it: its own configuration, its own DI container,
/// its own bus connection, listening on a free port on 127.0.0.1. Its spans are kept in <see cref="Spans"/>.
/// </summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServiceHost(string service, WebApplication app, LockedList<Activity> spans, LockedList<string> logs)
    {
        Service = service;
        _app = app;
        Spans = spans;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(address) }.WithToken(TestApiTokens.Writer);
    }

    public string Service { get; }
    /// <summary>A client of the service's HTTP API, with the write token (<see cref="TestApiTokens"/>).</summary>
    public HttpClient Http { get; }

    /// <summary>The service's base address, for a client of a test's own (no token, another token).</summary>
    public Uri Address => Http.BaseAddress!;
    public IServiceProvider Services => _app.Services;

    /// <summary>Finished spans from this service's own ActivitySource ("Orchestrator.&lt;Service&gt;").</summary>
    public LockedList<Activity> Spans { get; }

    /// <summary>Every log line the service wrote at its configured levels: category, message and exception text.</summary>
    public LockedList<string> Logs { get; }

    /// <summary>This service's own finished spans about one work item.</summary>
    public IEnumerable<Activity> OwnSpans(Guid correlationId)
    {
        return [.. Spans.Where(s => s.Source.Name == ServiceDefaultsExtensions.ActivitySourceName(Service)
            && Equals(s.GetTagItem(WorkItemActivity.CorrelationIdTag), correlationId))];
    }

    public static async Task<ServiceHost> StartAsync(
        string service,
        Action<WebApplicationBuilder> add,
        IReadOnlyDictionary<string, string?> settings,
        Action<WebApplication>? map = null,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = ApplicationName(service),
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Every host knows the test tokens, unless the test gives API_TOKENS itself.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["API_TOKENS"] = TestApiTokens.Setting });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults(service);
        add(builder);
        var spans = new LockedList<Activity>();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        var logs = new LockedList<string>();
        builder.Logging.AddProvider(new CapturingLoggerProvider(logs));

        var app = builder.Build();
        app.MapDefaultEndpoints();
        map?.Invoke(app);
        if (ServiceDefaultsExtensions.ConfigurationError(app.Services) is { } error)
            throw new InvalidOperationException($"{service}: configuration error: {error}");
        await app.StartAsync(cancellationToken);
        return new ServiceHost(service, app, spans, logs);
    }

    // A service's own assembly, as its Program.cs would have; a stand-in service (a test's caller) gets the test's.
    private static string ApplicationName(string service)
    {
        var name = $"Orchestrator.{service}";
        try
        {
            System.Reflection.Assembly.Load(name);
            return name;
        }
        catch (FileNotFoundException)
        {
            return System.Reflection.Assembly.GetEntryAssembly()!.GetName().Name!;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
