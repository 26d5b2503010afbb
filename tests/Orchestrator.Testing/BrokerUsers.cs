using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Orchestrator.Testing;

/// <summary>
/// The services' broker users as the deployment defines them (services/Broker/definitions.sh, which the broker loads in
/// compose), created in a test's virtual host under names of their own (users are the broker's, not the host's).
/// </summary>
public sealed class BrokerUsers
{
    private readonly Dictionary<string, Uri> _urls = new(StringComparer.OrdinalIgnoreCase);

    private BrokerUsers(JsonElement definitions) => Definitions = definitions;

    /// <summary>What definitions.sh printed: users and their permissions.</summary>
    public JsonElement Definitions { get; }

    /// <summary>RABBITMQ_URL for a service ("Intake", "Planner", "ToolGateway", "Publisher") as its own user.</summary>
    public Uri UrlFor(string service) => _urls[service];

    public static async Task<BrokerUsers> CreateAsync(VirtualHost host)
    {
        var passwords = new[] { "RABBITMQ_PASSWORD", "RABBITMQ_INTAKE_PASSWORD", "RABBITMQ_PLANNER_PASSWORD", "RABBITMQ_TOOLGATEWAY_PASSWORD", "RABBITMQ_PUBLISHER_PASSWORD" }
            .ToDictionary(n => n, _ => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant());
        var start = new ProcessStartInfo("sh", [Path.Combine(TestPaths.RepositoryRoot, "services", "Broker", "definitions.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["RABBITMQ_VHOST"] = host.Name;
        foreach (var (name, password) in passwords)
            start.Environment[name] = password;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"definitions.sh exited {process.ExitCode}: {errors}");
        var users = new BrokerUsers(JsonDocument.Parse(output).RootElement.Clone());

        foreach (var permission in users.Definitions.GetProperty("permissions").EnumerateArray())
        {
            var service = permission.GetProperty("user").GetString()!;
            if (service is not ("intake" or "planner" or "toolgateway" or "publisher"))
                continue;
            var name = $"{host.Name}-{service}";
            var password = passwords[$"RABBITMQ_{service.ToUpperInvariant()}_PASSWORD"];
            (await host.Management.PutAsJsonAsync($"api/users/{name}", new { password, tags = "" })).EnsureSuccessStatusCode();
            (await host.Management.PutAsJsonAsync($"api/permissions/{host.Name}/{name}", new
            {
                configure = permission.GetProperty("configure").GetString(),
                write = permission.GetProperty("write").GetString(),
                read = permission.GetProperty("read").GetString(),
            })).EnsureSuccessStatusCode();
            host.OnDispose(() => host.Management.DeleteAsync($"api/users/{name}"));
            users._urls[service] = new UriBuilder(host.Url) { UserName = name, Password = password }.Uri;
        }
        return users;
    }
}
