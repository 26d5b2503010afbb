using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Orchestrator.Testing;

/// <summary>
/// The real broker the tests run against (RABBITMQ_URL, started by scripts/test.sh). Each test gets its own virtual host
/// through the management API (RABBITMQ_MANAGEMENT_URL), so queues and exchanges never leak between tests.
/// </summary>
public static class RabbitMqBroker
{
    public static Uri Url => Required("RABBITMQ_URL");

    public static Uri ManagementUrl => Required("RABBITMQ_MANAGEMENT_URL");

    public static async Task<VirtualHost> CreateVirtualHostAsync(string? name = null)
    {
        name ??= $"test-{Guid.NewGuid():N}";
        var http = ManagementClient();
        var user = Uri.UnescapeDataString(Url.UserInfo.Split(':')[0]);
        (await http.PutAsync($"api/vhosts/{name}", null)).EnsureSuccessStatusCode();
        (await http.PutAsJsonAsync($"api/permissions/{name}/{user}", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        var url = new UriBuilder(Url) { Path = "/" + name }.Uri;
        return new VirtualHost(name, url, http);
    }

    public static HttpClient ManagementClient()
    {
        var management = ManagementUrl;
        var http = new HttpClient { BaseAddress = new UriBuilder(management) { UserName = "", Password = "" }.Uri };
        var credentials = Uri.UnescapeDataString(management.UserInfo);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return http;
    }

    private static Uri Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? new Uri(value)
            : throw new InvalidOperationException($"{name} is not set: run the tests through scripts/test.sh, which starts RabbitMQ");
}

public sealed class VirtualHost(string name, Uri url, HttpClient management) : IAsyncDisposable
{
    public string Name { get; } = name;

    /// <summary>RABBITMQ_URL for services in this virtual host.</summary>
    public Uri Url { get; } = url;

    public HttpClient Management { get; } = management;

    public async ValueTask DisposeAsync()
    {
        await Management.DeleteAsync($"api/vhosts/{Name}");
        Management.Dispose();
    }
}
