using System.Diagnostics;
using System.Text;

namespace Orchestrator.ComposeSmoke;

/// <summary>
/// docker-compose on the repository's docker-compose.yml, with the given variables as its whole configuration (the
/// repository's own .env, if any, is not read). Every command's output goes to the log file; a failed command throws
/// with its last lines.
/// </summary>
internal sealed class Compose(string root, IReadOnlyDictionary<string, string> variables, string logFile)
{
    public string LogFile => logFile;

    public async Task<string> RunAsync(TimeSpan timeout, params string[] args)
    {
        var emptyEnvFile = Path.Combine(Path.GetDirectoryName(logFile)!, "empty.env");
        await File.WriteAllTextAsync(emptyEnvFile, "");
        return await RunProcessAsync("docker-compose", ["--project-directory", root, "-f", Path.Combine(root, "docker-compose.yml"),
            "--env-file", emptyEnvFile, .. args], timeout, variables, logFile);
    }

    public async Task<IReadOnlyList<string>> ContainersAsync(string? service = null) =>
        (await RunAsync(TimeSpan.FromMinutes(1), service is null ? ["ps", "-q"] : ["ps", "-q", service]))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Each container's service and health ("healthy", or its state when it has no health check).</summary>
    public async Task<IReadOnlyList<(string Service, string Health)>> HealthAsync()
    {
        var ids = await ContainersAsync();
        if (ids.Count == 0)
            return [];
        var output = await Docker(["inspect", "-f",
            "{{index .Config.Labels \"com.docker.compose.service\"}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}", .. ids]);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 2)).Select(p => (p[0], p[1].Trim()))];
    }

    public static Task<string> Docker(params string[] args) => RunProcessAsync("docker", args, TimeSpan.FromMinutes(1));

    /// <summary>The group that owns the Docker socket: the group the gateway, not root, reaches it through (DOCKER_GID).</summary>
    public static async Task<string> DockerSocketGroupAsync() =>
        (await RunProcessAsync("stat", ["-c", "%g", "/var/run/docker.sock"], TimeSpan.FromSeconds(10))).Trim();

    private static async Task<string> RunProcessAsync(string file, string[] args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? variables = null, string? logFile = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (key, value) in variables ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout.TotalMinutes:0.#} min");
        }
        process.WaitForExit();
        var command = $"$ {file} {string.Join(' ', args)}";
        if (logFile is not null)
            await File.AppendAllTextAsync(logFile, $"{command}\n{output}{error}\n");
        if (process.ExitCode != 0)
        {
            var lines = $"{output}{error}".Split('\n');
            throw new InvalidOperationException($"{command} exited with {process.ExitCode}:\n{string.Join('\n', lines.TakeLast(40))}");
        }
        return output.ToString();
    }
}
