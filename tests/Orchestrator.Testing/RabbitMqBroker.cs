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

    /// <param name="broker">Another broker than RABBITMQ_URL's (a test's private node): its AMQP and management URLs.</param>
    public static async Task<VirtualHost> CreateVirtualHostAsync(string? name = null, (Uri Url, Uri ManagementUrl)? broker = null)
    {
        name ??= $"test-{Guid.NewGuid():N}";
        var (amqp, management) = broker ?? (Url, ManagementUrl);
        var http = ManagementClient(management);
        var user = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]);
        (await http.PutAsync($"api/vhosts/{name}", null)).EnsureSuccessStatusCode();
        (await http.PutAsJsonAsync($"api/permissions/{name}/{user}", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        var url = new UriBuilder(amqp) { Path = "/" + name }.Uri;
        return new VirtualHost(name, url, http);
    }

    public static HttpClient ManagementClient(Uri? managementUrl = null)
    {
        var management = managementUrl ?? ManagementUrl;
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

    /// <summary>The virtual host's queues with their message counts, from the management API.</summary>
    public async Task<IReadOnlyList<(string Name, int Messages)>> QueuesAsync()
    {
        var queues = await Management.GetFromJsonAsync<System.Text.Json.JsonElement[]>($"api/queues/{Name}?columns=name,messages");
        return [.. queues!.Select(q => (q.GetProperty("name").GetString()!, q.TryGetProperty("messages", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Number ? m.GetInt32() : 0))];
    }

    /// <summary>Puts raw bytes on a queue (through the default exchange), as a broken or hostile producer could.</summary>
    public async Task PublishRawAsync(string queue, string payload, string contentType)
    {
        var response = await Management.PostAsJsonAsync($"api/exchanges/{Name}/amq.default/publish", new
        {
            properties = new { content_type = contentType, message_id = Guid.NewGuid().ToString() },
            routing_key = queue,
            payload,
            payload_encoding = "string",
        });
        response.EnsureSuccessStatusCode();
        var routed = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        if (!routed.GetProperty("routed").GetBoolean())
            throw new InvalidOperationException($"Nothing was routed to {queue}");
    }

    private readonly List<Func<Task>> _onDispose = [];

    /// <summary>Something else of the broker's to remove with the host (a user made for it).</summary>
    public void OnDispose(Func<Task> cleanup) => _onDispose.Add(cleanup);

    public async ValueTask DisposeAsync()
    {
        foreach (var cleanup in _onDispose)
            await cleanup();
        await Management.DeleteAsync($"api/vhosts/{Name}");
        Management.Dispose();
    }
}
