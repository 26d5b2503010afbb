using System.Diagnostics;
using System.Text.RegularExpressions;
using Orchestrator.Testing;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>The deployment as docker-compose itself reads it.</summary>
public sealed partial class ComposeFileTests
{
    [Fact]
    public async Task Compose_refuses_the_example_settings_until_a_broker_password_is_set()
    {
        var (refused, _, said) = await ComposeConfigAsync(new Dictionary<string, string>(), "--env-file", ".env.example");
        var example = Path.Combine(TestPaths.NewTempDirectory("compose-env"), "example.env");
        var filled = Regex.Replace(await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, ".env.example"), TestContext.Current.CancellationToken),
            "^(RABBITMQ_[A-Z]*_?PASSWORD)=$", "$1=a-password-of-our-own", RegexOptions.Multiline);
        await File.WriteAllTextAsync(example, filled, TestContext.Current.CancellationToken);
        var (exitCode, output, error) = await ComposeConfigAsync(new Dictionary<string, string>(), "--env-file", example);

        Assert.NotEqual(0, refused);
        Assert.Contains("set RABBITMQ_PASSWORD", said);
        Assert.True(exitCode == 0, error);
        Assert.Equal(["intake", "jaeger", "mcp-filesystem", "mcp-git", "planner", "publisher", "rabbitmq", "toolgateway", "toolgateway-workspaces"],
            ServiceVolumes(output).Keys.Order());
        // Published on this machine only: the UIs, the APIs, all of them.
        var ports = ServiceLines(output, "ports").SelectMany(s => s.Value.Select(p => (s.Key, Port: p))).ToList();
        Assert.Equal(["intake", "jaeger", "planner", "rabbitmq"], ports.Select(p => p.Key).Order());
        Assert.All(ports, p => Assert.StartsWith("127.0.0.1:", p.Port));
    }

    [Fact]
    public async Task The_default_catalog_images_we_build_are_built_by_the_mcp_images_profile_and_never_started()
    {
        var (_, output, _) = await ComposeConfigAsync();

        var appsettings = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(
            Path.Combine(TestPaths.RepositoryRoot, "services/ToolGateway/Orchestrator.ToolGateway.Host/appsettings.json"), TestContext.Current.CancellationToken));
        var ours = appsettings.RootElement.GetProperty("MCP_SERVERS").EnumerateArray()
            .Where(s => s.TryGetProperty("Image", out _)).Select(s => s.GetProperty("Image").GetString()!).Where(i => i.StartsWith("orchestrator/", StringComparison.Ordinal)).Order();
        var profiles = ServiceLines(output, "profiles");
        var built = ServiceLines(output, "build").Where(s => s.Value.Count > 0).Select(s => s.Key).ToList();
        var imageServices = profiles.Where(p => p.Value.Contains("mcp-images")).Select(p => p.Key).ToList();
        Assert.Equal(["mcp-filesystem", "mcp-git"], imageServices.Order());
        Assert.All(imageServices, s => Assert.Contains(s, built));
        Assert.Equal(ours, imageServices.Select(s => ServiceImage(output, s)).Order());
    }

    private static string ServiceImage(string config, string service)
    {
        var lines = config.Split('\n');
        var start = Array.IndexOf(lines, $"  {service}:");
        return lines.Skip(start + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal))
            .First(l => l.StartsWith("    image:", StringComparison.Ordinal))["    image:".Length..].Trim();
    }

    [Fact]
    public async Task Only_toolgateway_mounts_the_Docker_socket()
    {
        var (exitCode, output, error) = await ComposeConfigAsync();

        Assert.True(exitCode == 0, error);
        var withSocket = ServiceVolumes(output).Where(s => s.Value.Any(v => v.Contains("/var/run/docker.sock"))).Select(s => s.Key);
        Assert.Equal(["toolgateway"], withSocket);
    }

    [Fact]
    public async Task Secrets_reach_only_the_services_that_use_them()
    {
        string[] secrets = ["GITHUB_TOKEN", "INTAKE_GITHUB_TOKEN", "GITHUB_MCP_TOKEN", "OPENAI_API_KEY", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_PRIVATE_KEY", "API_TOKENS", "GIT_CLONE_TOKEN", .. BrokerPasswords];
        var values = secrets.ToDictionary(s => s, s => $"secret-{s.ToLowerInvariant().Replace('_', '-')}-{Guid.NewGuid():N}");
        var (exitCode, output, error) = await ComposeConfigAsync(values);
        Assert.True(exitCode == 0, error);

        var environment = ServiceLines(output, "environment");
        string[] Holding(string secret) => [.. environment.Where(s => s.Value.Any(l => l.Contains(values[secret], StringComparison.Ordinal))).Select(s => s.Key).Order()];
        // The write token is Publisher's alone; Intake reads with a token of its own; the gateway and its MCP servers get neither.
        Assert.Equal(["publisher"], Holding("GITHUB_TOKEN"));
        Assert.Equal(["intake"], Holding("INTAKE_GITHUB_TOKEN"));
        Assert.Equal(["toolgateway"], Holding("GITHUB_MCP_TOKEN"));
        Assert.Equal(["planner"], Holding("OPENAI_API_KEY"));
        Assert.Equal(["intake"], Holding("GITHUB_WEBHOOK_SECRET"));
        Assert.Equal(["intake", "publisher"], Holding("GITHUB_APP_PRIVATE_KEY"));
        Assert.Equal(["intake", "planner"], Holding("API_TOKENS"));
        Assert.Equal(["toolgateway"], Holding("GIT_CLONE_TOKEN"));
        // The broker knows every password; each service knows its own.
        Assert.Equal(["rabbitmq"], Holding("RABBITMQ_PASSWORD"));
        foreach (var service in new[] { "intake", "planner", "toolgateway", "publisher" })
            Assert.Equal(new[] { "rabbitmq", service }.Order(), Holding($"RABBITMQ_{service.ToUpperInvariant()}_PASSWORD"));
    }

    private static Dictionary<string, List<string>> ServiceVolumes(string config) => ServiceLines(config, "volumes");

    /// <summary>The lines of each service's <paramref name="section"/> in the normalized YAML `docker-compose config` prints.</summary>
    private static Dictionary<string, List<string>> ServiceLines(string config, string section)
    {
        var services = new Dictionary<string, List<string>>();
        string? service = null;
        var inServices = false;
        var inSection = false;
        foreach (var line in config.Split('\n'))
        {
            if (TopLevel().IsMatch(line))
            {
                inServices = line.StartsWith("services:");
                service = null;
                continue;
            }
            if (!inServices)
                continue;
            if (ServiceName().Match(line) is { Success: true } name)
            {
                service = name.Groups[1].Value;
                services[service] = [];
                inSection = false;
            }
            else if (service is not null && SectionName().Match(line) is { Success: true } key)
                inSection = key.Groups[1].Value == section;
            else if (service is not null && inSection)
                services[service].Add(line.Trim().TrimStart('-', ' '));
        }
        return services;
    }

    /// <summary>`docker-compose config` with a broker password set and nothing else from this process's environment.</summary>
    private static Task<(int ExitCode, string Output, string Error)> ComposeConfigAsync() =>
        ComposeConfigAsync(BrokerPasswords.ToDictionary(p => p, _ => "a-password-of-our-own"));

    private static readonly string[] BrokerPasswords =
        ["RABBITMQ_PASSWORD", "RABBITMQ_INTAKE_PASSWORD", "RABBITMQ_PLANNER_PASSWORD", "RABBITMQ_TOOLGATEWAY_PASSWORD", "RABBITMQ_PUBLISHER_PASSWORD"];

    private static async Task<(int ExitCode, string Output, string Error)> ComposeConfigAsync(IReadOnlyDictionary<string, string> variables, params string[] args)
    {
        var start = new ProcessStartInfo("docker-compose")
        {
            WorkingDirectory = TestPaths.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.ArgumentList.Add("config");
        // Only the file's own defaults (or the --env-file) decide; not whatever this shell has set.
        foreach (var name in (string[])["GITHUB_TOKEN", "INTAKE_GITHUB_TOKEN", "OPENAI_API_KEY", "RABBITMQ_URL", "API_TOKENS", "BIND_ADDRESS", "UI_BIND_ADDRESS", "GIT_CLONE_TOKEN", .. BrokerPasswords])
            start.Environment.Remove(name);
        foreach (var (name, value) in variables)
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await output, await error);
    }

    [GeneratedRegex(@"^[a-z]")]
    private static partial Regex TopLevel();

    [GeneratedRegex(@"^  ([a-z][a-z0-9_-]*):\s*$")]
    private static partial Regex ServiceName();

    [GeneratedRegex(@"^    ([a-z_]+):")]
    private static partial Regex SectionName();
}
