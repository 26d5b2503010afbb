using System.Diagnostics;
using System.Text.RegularExpressions;
using Orchestrator.Testing;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>The deployment as docker-compose itself reads it.</summary>
public sealed partial class ComposeFileTests
{
    [Fact]
    public async Task Compose_accepts_the_file_with_the_example_settings()
    {
        var (exitCode, output, error) = await ComposeConfigAsync("--env-file", ".env.example");

        Assert.True(exitCode == 0, error);
        Assert.Equal(["intake", "jaeger", "mcp-filesystem", "mcp-git", "planner", "publisher", "rabbitmq", "toolgateway", "toolgateway-workspaces"],
            ServiceVolumes(output).Keys.Order());
    }

    [Fact]
    public async Task The_default_catalog_images_we_build_are_built_by_the_mcp_images_profile_and_never_started()
    {
        var (_, output, _) = await ComposeConfigAsync();

        var appsettings = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(
            Path.Combine(TestPaths.RepositoryRoot, "services/ToolGateway/Orchestrator.ToolGateway.Host/appsettings.json"), TestContext.Current.CancellationToken));
        var ours = appsettings.RootElement.GetProperty("MCP_SERVERS").EnumerateArray()
            .Select(s => s.GetProperty("Image").GetString()!).Where(i => i.StartsWith("orchestrator/", StringComparison.Ordinal)).Order();
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
        var (_, output, _) = await ComposeConfigAsync();

        var environment = ServiceLines(output, "environment");
        Assert.Equal(["planner"], environment.Where(s => s.Value.Any(l => l.StartsWith("OPENAI_API_KEY:"))).Select(s => s.Key));
        // The write token is Publisher's (and Intake may read with it); the gateway and its MCP servers never get it.
        Assert.Equal(["intake", "publisher"], environment.Where(s => s.Value.Any(l => l.StartsWith("GITHUB_TOKEN:"))).Select(s => s.Key).Order());
        Assert.Equal(["toolgateway"], environment.Where(s => s.Value.Any(l => l.StartsWith("GITHUB_MCP_TOKEN:"))).Select(s => s.Key));
        Assert.Equal(["intake"], environment.Where(s => s.Value.Any(l => l.StartsWith("GITHUB_WEBHOOK_SECRET:"))).Select(s => s.Key));
        Assert.Equal(["intake", "publisher"], environment.Where(s => s.Value.Any(l => l.StartsWith("GITHUB_APP_PRIVATE_KEY:"))).Select(s => s.Key).Order());
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

    private static async Task<(int ExitCode, string Output, string Error)> ComposeConfigAsync(params string[] args)
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
        foreach (var name in new[] { "GITHUB_TOKEN", "OPENAI_API_KEY", "RABBITMQ_URL" })
            start.Environment.Remove(name);
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
