using System.Diagnostics;
using System.Text;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>Runs the real git on a workspace. Arguments are passed as a list, never through a shell.</summary>
public static class Git
{
    public static async Task<string> RunAsync(string workingDirectory, CancellationToken cancellationToken, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        // The servers own the workspace (they run as another user); git must still work in it.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("safe.directory=*");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // Never prompt for credentials: a clone that needs them fails instead of hanging.
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("git could not be started");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new GitException($"git {args[0]} failed ({process.ExitCode}): {(await stderr).Trim()}");
        return await stdout;
    }
}

public sealed class GitException(string message) : Exception(message);
