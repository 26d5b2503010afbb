using Microsoft.Extensions.Logging;
using Orchestrator.ToolGateway.Processes;

namespace Orchestrator.ToolGateway.Launchers;

/// <summary>
/// The docker CLI, run with an argument list (never a shell) and only the environment it needs: the gateway's own
/// settings, secrets included, are not passed on.
/// </summary>
public sealed class DockerCli(ILogger<DockerCli> logger)
{
    public const string Executable = "docker";

    // What the CLI needs to find and reach the engine; nothing else of the gateway's environment.
    private static readonly string[] PassedThrough =
        ["PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"];

    public static Dictionary<string, string?> BaseEnvironment() =>
        PassedThrough.Select(name => (name, value: Environment.GetEnvironmentVariable(name)))
            .Where(v => v.value is not null)
            .ToDictionary(v => v.name, v => v.value);

    public async Task<DockerResult> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        var result = await ChildProcess.RunAsync(Executable, args, BaseEnvironment(), cancellationToken);
        return new DockerResult(result.ExitCode, result.Text, result.Error);
    }

    public async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken) =>
        await ImageIdAsync(image, cancellationToken) is not null;

    /// <summary>The image's id (<c>sha256:…</c>), or null when the engine has no such image.</summary>
    public async Task<string?> ImageIdAsync(string image, CancellationToken cancellationToken)
    {
        var result = await RunAsync(["image", "inspect", "--format", "{{.Id}}", image], cancellationToken);
        return result.ExitCode == 0 ? result.Output.Trim() : null;
    }

    public Task<DockerResult> PullAsync(string image, CancellationToken cancellationToken) =>
        RunAsync(["pull", "--quiet", image], cancellationToken);

    /// <summary>Kills and removes the named containers; a name that is already gone is not an error.</summary>
    public async Task RemoveAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken = default)
    {
        if (names.Count == 0)
            return;
        // --volumes: an image may declare VOLUMEs, which would otherwise outlive every container made from it.
        var result = await RunAsync(["rm", "--force", "--volumes", .. names], cancellationToken);
        // Gone already, or going (--rm removes a container whose server exited): either way it will not be left.
        if (result.ExitCode != 0 && !result.Error.Contains("No such container", StringComparison.OrdinalIgnoreCase)
            && !result.Error.Contains("already in progress", StringComparison.OrdinalIgnoreCase))
            logger.LogWarning("docker rm of {Containers} failed: {Error}", string.Join(", ", names), result.Error);
    }

    /// <summary>Containers (running or not) that carry every given label, with their labels.</summary>
    public async Task<IReadOnlyList<ContainerInfo>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        List<string> args = ["ps", "--all", "--no-trunc", "--format", "{{.Names}}\t{{.CreatedAt}}\t{{.Labels}}"];
        foreach (var (key, value) in labels)
            args.AddRange(["--filter", $"label={key}={value}"]);
        var result = await RunAsync(args, cancellationToken);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"docker ps failed: {result.Error}");
        return [.. result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ContainerInfo.Parse)];
    }
}

public readonly record struct DockerResult(int ExitCode, string Output, string Error);

public sealed partial record ContainerInfo(string Name, DateTimeOffset Created, IReadOnlyDictionary<string, string> Labels)
{
    [System.Text.RegularExpressions.GeneratedRegex(@"([+-]\d\d)(\d\d)$")]
    private static partial System.Text.RegularExpressions.Regex CreatedOffset();

    // "name<TAB>2026-11-24 16:43:22 +0000 UTC<TAB>a=b,c=d"
    public static ContainerInfo Parse(string line)
    {
        var parts = line.Split('\t');
        // "+0000 UTC" → "+00:00"; a date that cannot be read counts as old, so a dead replica's container is still swept.
        var text = CreatedOffset().Replace(parts[1].Replace(" UTC", "", StringComparison.Ordinal), "$1:$2");
        var created = DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var at) ? at : DateTimeOffset.MinValue;
        var labels = parts.Length > 2
            ? parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2))
                .Where(kv => kv.Length == 2).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.First()[1])
            : [];
        return new ContainerInfo(parts[0], created, labels);
    }
}
