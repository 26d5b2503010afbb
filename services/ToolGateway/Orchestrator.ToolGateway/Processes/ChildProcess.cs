using System.Diagnostics;
using System.Text;

namespace Orchestrator.ToolGateway.Processes;

/// <summary>What a finished child process left: its exit code, its output (up to the limit it was given) and the end of its errors.</summary>
/// <param name="OutputCut">The process wrote more than the limit: <see cref="Output"/> holds the start, and the process was killed.</param>
public sealed record ChildProcessResult(int ExitCode, byte[] Output, string Error, bool OutputCut)
{
    public string Text => Encoding.UTF8.GetString(Output);
}

/// <summary>
/// Runs a program the gateway trusts (git, the docker CLI) with an argument list (never a shell), exactly the environment
/// it is given (nothing of the gateway's own), and bounded output: what it prints past the limit is not read, and the
/// process is killed. A cancelled run kills the whole process tree.
/// </summary>
public static class ChildProcess
{
    private const int ErrorTailChars = 8 * 1024;

    public static async Task<ChildProcessResult> RunAsync(
        string file,
        IEnumerable<string> args,
        IReadOnlyDictionary<string, string?> environment,
        CancellationToken cancellationToken,
        string? workingDirectory = null,
        byte[]? input = null,
        int maxOutputBytes = 16 * 1024 * 1024)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? "",
        };
        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            if (value is not null)
                start.Environment[name] = value;
        }
        foreach (var arg in args)
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} could not be started");
        var errors = ReadTailAsync(process.StandardError);
        var output = ReadBoundedAsync(process, maxOutputBytes);
        try
        {
            if (input is not null)
                await process.StandardInput.BaseStream.WriteAsync(input, cancellationToken);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It exited without reading all of its input: its exit code and errors say why.
        }
        try
        {
            var (bytes, cut) = await output.WaitAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return new ChildProcessResult(process.ExitCode, bytes, (await errors).Trim(), cut);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
    }

    private static async Task<(byte[] Bytes, bool Cut)> ReadBoundedAsync(Process process, int maxBytes)
    {
        var stream = process.StandardOutput.BaseStream;
        using var kept = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            var room = maxBytes - (int)kept.Length;
            if (read > room)
            {
                kept.Write(buffer, 0, room);
                Kill(process);
                return (kept.ToArray(), true);
            }
            kept.Write(buffer, 0, read);
        }
        return (kept.ToArray(), false);
    }

    private static async Task<string> ReadTailAsync(StreamReader errors)
    {
        var tail = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await errors.ReadAsync(buffer)) > 0)
        {
            tail.Append(buffer, 0, read);
            if (tail.Length > 2 * ErrorTailChars)
                tail.Remove(0, tail.Length - ErrorTailChars);
        }
        return tail.Length > ErrorTailChars ? tail.ToString(tail.Length - ErrorTailChars, ErrorTailChars) : tail.ToString();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }
}
