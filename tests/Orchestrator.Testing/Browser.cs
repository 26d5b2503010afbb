using System.Diagnostics;
using System.Text.Json;

namespace Orchestrator.Testing;

/// <summary>
/// Runs one of tests/browser's scripts, which drive Debian's Chromium with playwright-core, and returns the JSON it
/// prints last: what a person would have seen on the page.
/// </summary>
public static class Browser
{
    public static async Task<JsonElement> RunAsync(string script, params string[] arguments)
    {
        var folder = Path.Combine(TestPaths.RepositoryRoot, "tests", "browser");
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "playwright-core")))
            throw new InvalidOperationException($"playwright-core is not installed in {folder}: run npm ci there (scripts/test.sh does)");
        if (!File.Exists("/usr/bin/chromium"))
            throw new InvalidOperationException("/usr/bin/chromium is missing: apt-get install chromium (scripts/test.sh does)");
        var start = new ProcessStartInfo("node", [Path.Combine(folder, script), .. arguments])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish in 2 minutes:\n{await errors}");
        }
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (process.ExitCode != 0 || lines.Length == 0)
            throw new InvalidOperationException($"{script} exited {process.ExitCode}:\n{await output}\n{await errors}");
        return JsonDocument.Parse(lines[^1]).RootElement.Clone();
    }
}
