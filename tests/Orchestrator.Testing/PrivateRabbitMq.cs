using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Testing;

/// <summary>
/// A RabbitMQ node of one test's own (its name, ports and data folder), for a test that stops and starts the broker: the
/// shared broker serves every other test at the same time. Durable queues and persistent messages survive a restart,
/// as on a real server.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string _directory;
    private readonly string _node;
    private readonly int _port;
    private readonly int _managementPort;
    private readonly int _distributionPort;
    private Process? _server;

    private PrivateRabbitMq()
    {
        _directory = TestPaths.NewTempDirectory("rabbitmq");
        _node = $"orchestrator-private-{Guid.NewGuid().ToString("N")[..8]}@localhost";
        (_port, _managementPort, _distributionPort) = (FreePort(), FreePort(), FreePort());
    }

    public Uri Url => new($"amqp://guest:guest@127.0.0.1:{_port}/");
    public Uri ManagementUrl => new($"http://guest:guest@127.0.0.1:{_managementPort}/");

    /// <param name="running">False: the node is set up (its ports are known) but not started; <see cref="StartNodeAsync"/> starts it.</param>
    public static async Task<PrivateRabbitMq> StartAsync(bool running = true)
    {
        var broker = new PrivateRabbitMq();
        Directory.CreateDirectory(Path.Combine(broker._directory, "home"));
        Directory.CreateDirectory(Path.Combine(broker._directory, "log"));
        await File.WriteAllTextAsync(Path.Combine(broker._directory, "enabled_plugins"), "[rabbitmq_management].");
        await File.WriteAllTextAsync(Path.Combine(broker._directory, "rabbitmq.conf"),
            $"listeners.tcp.default = 127.0.0.1:{broker._port}\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {broker._managementPort}\n");
        try
        {
            if (running)
                await broker.StartNodeAsync();
        }
        catch
        {
            // A node that did not come up must not outlive the test.
            broker._server?.Kill(entireProcessTree: true);
            throw;
        }
        return broker;
    }

    /// <summary>
    /// The node's log lines about client connections (accepted, authenticated, closed): whether and when each service
    /// came back after a restart, which their own logs do not say above Debug.
    /// </summary>
    public string ConnectionLog()
    {
        var log = Path.Combine(_directory, "log", $"{_node}.log");
        if (!File.Exists(log))
            return "";
        using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return string.Join('\n', reader.ReadToEnd().Split('\n').Where(l => l.Contains("connection", StringComparison.Ordinal)
            || l.Contains("TCP listener", StringComparison.Ordinal)));
    }

    /// <summary>Stops the node (connections drop, non-durable queues go) and starts it again on the same ports and data.</summary>
    public async Task RestartAsync()
    {
        await StopNodeAsync();
        await StartNodeAsync();
    }

    public async Task StartNodeAsync()
    {
        var start = new ProcessStartInfo("setsid", [$"{Bin}/rabbitmq-server"])
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["HOME"] = Path.Combine(_directory, "home");
        start.Environment["RABBITMQ_NODENAME"] = _node;
        start.Environment["RABBITMQ_NODE_PORT"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins");
        start.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq");
        _server = Process.Start(start)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        // Until the node has registered, rabbitmqctl cannot reach it to wait on it: ask again, as scripts/lib/infra.sh does.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                await ControlAsync("await_startup", "--timeout", "30");
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline && _server is { HasExited: false })
            {
                await Task.Delay(500);
            }
        }
    }

    public async Task StopNodeAsync()
    {
        try
        {
            await ControlAsync("stop");
        }
        catch (InvalidOperationException) when (_server is not null)
        {
            // A node that does not answer must not outlive the test either.
            _server.Kill(entireProcessTree: true);
        }
        if (_server is not null)
        {
            await _server.WaitForExitAsync();
            _server.Dispose();
            _server = null;
        }
    }

    private async Task ControlAsync(params string[] args)
    {
        var start = new ProcessStartInfo($"{Bin}/rabbitmqctl", ["-n", _node, "-q", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["HOME"] = Path.Combine(_directory, "home");
        using var control = Process.Start(start)!;
        var output = control.StandardOutput.ReadToEndAsync();
        var error = control.StandardError.ReadToEndAsync();
        await control.WaitForExitAsync();
        if (control.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed ({control.ExitCode}): {await error}{await output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopNodeAsync();
        }
        finally
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // The temp folder goes with the test command's.
            }
        }
    }
}
