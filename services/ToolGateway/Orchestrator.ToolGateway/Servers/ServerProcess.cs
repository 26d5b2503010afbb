using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>
/// An MCP server's process (the docker CLI attached to its container, or the server itself) as the client's transport:
/// stdin carries requests; stdout is read through a <see cref="MessageSizeLimiter"/>, so no message longer than the
/// limit is ever held; stderr goes to the log, redacted, and its last lines are kept to say why the server exited.
/// The MCP SDK's own stdio transport reads whole lines of any length, which is what this replaces.
/// </summary>
public sealed class ServerProcess : IServerConnection
{
    private const int StderrLinesKept = 5;
    private const int StderrLineBytes = 2_000;

    private readonly ServerLaunch _launch;
    private readonly int _maxMessageBytes;
    private readonly ServerSecrets _secrets;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Queue<string> _stderr = new();
    private Process? _process;

    public ServerProcess(ServerLaunch launch, int maxMessageBytes, ServerSecrets secrets, ILoggerFactory loggers)
    {
        _launch = launch;
        _maxMessageBytes = maxMessageBytes;
        _secrets = secrets;
        _loggers = loggers;
        _logger = loggers.CreateLogger($"{typeof(ServerProcess).FullName}.{launch.Transport.Name}");
    }

    public string Name => _launch.Transport.Name!;

    /// <summary>Completes when the process has exited, with its exit code.</summary>
    public Task<int> Exited { get; private set; } = Task.FromResult(-1);

    /// <summary>How the process ended, with its last words on stderr (redacted), for a log line or a caller.</summary>
    public async Task<string> DescribeAsync()
    {
        // Its output closes a moment before the process is reaped.
        await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromMilliseconds(500)));
        var exit = Exited.IsCompletedSuccessfully ? $"exited with code {Exited.Result}" : "closed its output";
        string[] tail;
        lock (_stderr)
            tail = [.. _stderr];
        return tail.Length == 0 ? exit : $"{exit}: {string.Join(" | ", tail)}";
    }

    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var options = _launch.Transport;
        var start = new ProcessStartInfo(options.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? "",
        };
        foreach (var arg in options.Arguments ?? [])
            start.ArgumentList.Add(arg);
        if (!options.InheritEnvironmentVariables)
            start.Environment.Clear();
        foreach (var (name, value) in options.EnvironmentVariables ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Exited += (_, _) => exited.TrySetResult(SafeExitCode(process));
        if (!process.Start())
            throw new ServerStartException($"Server {Name} could not be started");
        _ = ReadErrorsAsync(process.StandardError.BaseStream);
        _process = process;
        Exited = exited.Task;

        var output = new MessageSizeLimiter(process.StandardOutput.BaseStream, _maxMessageBytes, "TOOL_RESULT_MAX_BYTES")
        {
            Cut = length => _logger.LogWarning("Server {Server} answered with {Length:N0} bytes, over TOOL_RESULT_MAX_BYTES ({Limit:N0}): cut",
                Name, length, _maxMessageBytes),
        };
        return ConnectStreamsAsync(process.StandardInput.BaseStream, output, cancellationToken);
    }

    private async Task<ITransport> ConnectStreamsAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var inner = await new StreamClientTransport(input, output, _loggers).ConnectAsync(cancellationToken);
        return new Session(inner, this);
    }

    /// <summary>
    /// The server's stderr, line by line, keeping at most <see cref="StderrLineBytes"/> of each: a server that writes an
    /// endless line costs the gateway that much, not the line (reading whole lines, as .NET's line events do, would not).
    /// </summary>
    private async Task ReadErrorsAsync(Stream errors)
    {
        var buffer = new byte[8 * 1024];
        var line = new MemoryStream();
        try
        {
            int read;
            while ((read = await errors.ReadAsync(buffer)) > 0)
            {
                var bytes = buffer.AsSpan(0, read);
                for (var newline = bytes.IndexOf((byte)'\n'); ; newline = bytes.IndexOf((byte)'\n'))
                {
                    var part = newline < 0 ? bytes : bytes[..newline];
                    line.Write(part[..Math.Min(part.Length, Math.Max(0, StderrLineBytes - (int)line.Length))]);
                    if (newline < 0)
                        break;
                    Stderr(System.Text.Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length).TrimEnd('\r'));
                    line.SetLength(0);
                    bytes = bytes[(newline + 1)..];
                }
            }
            if (line.Length > 0)
                Stderr(System.Text.Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process is gone.
        }
    }

    private void Stderr(string line)
    {
        var redacted = _secrets.Redact(line);
        _logger.LogDebug("{Server}: {Line}", Name, redacted);
        lock (_stderr)
        {
            _stderr.Enqueue(redacted.Length > 500 ? redacted[..500] + "…" : redacted);
            while (_stderr.Count > StderrLinesKept)
                _stderr.Dequeue();
        }
    }

    /// <summary>Ends the process: its input is closed first (a server exits on end of input), and it is killed after the launch's shutdown timeout.</summary>
    private async Task StopAsync()
    {
        if (_process is not { } process)
            return;
        try
        {
            process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }
        using var grace = new CancellationTokenSource(_launch.Transport.ShutdownTimeout);
        try
        {
            await Exited.WaitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }
    }

    private static int SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    /// <summary>The SDK's stream session, which on disposal also ends the process.</summary>
    private sealed class Session(ITransport inner, ServerProcess process) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) =>
            inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await process.StopAsync();
            await inner.DisposeAsync();
            process._process?.Dispose();
        }
    }
}
