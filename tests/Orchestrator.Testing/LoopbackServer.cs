using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Testing;

/// <summary>
/// The stand-ins for what lives on the internet (GitHub, the LLM, the tracing backend): real HTTP, on 127.0.0.1 unless
/// containers must reach them too (the compose smoke test).
/// </summary>
public static class LoopbackServer
{
    public const string Loopback = "http://127.0.0.1:0";

    /// <summary>An app to map the stand-in's routes on, listening on <paramref name="urls"/> (a free port of 127.0.0.1 by default), logging nothing.</summary>
    public static WebApplication Create(params string[] urls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls.Length == 0 ? Loopback : string.Join(';', urls));
        builder.Logging.ClearProviders();
        return builder.Build();
    }

    /// <summary>Starts the app and returns its root address, ending in '/'.</summary>
    public static async Task<Uri> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }
}
