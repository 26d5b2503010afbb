using System.Diagnostics;
using System.Text.Json;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.Testing;

/// <summary>The real docker CLI, for looking at what the gateway started.</summary>
public static class Docker
{
    public static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException($"docker {string.Join(' ', args)} failed: {await stderr}");
    }

    /// <summary>Names of the containers (running or not) of a deployment, optionally of one server or replica.</summary>
    public static async Task<IReadOnlyList<string>> ContainersAsync(string deployment, string? server = null, string? replica = null, Guid? session = null)
    {
        List<string> args = ["ps", "--all", "--format", "{{.Names}}", "--filter", $"label={ContainerLabels.Deployment}={deployment}"];
        if (server is not null)
            args.AddRange(["--filter", $"label={ContainerLabels.Server}={server}"]);
        if (session is not null)
            args.AddRange(["--filter", $"label={ContainerLabels.Session}={session}"]);
        if (replica is not null)
            args.AddRange(["--filter", $"label={ContainerLabels.Replica}={replica}"]);
        return (await RunAsync([.. args])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static async Task<JsonElement> InspectAsync(string container) =>
        JsonDocument.Parse(await RunAsync("inspect", container)).RootElement[0];
}
