using System.Diagnostics;
using System.Text;
namespace Orchestrator.Testing;

/// <summary>
/// A service's real host as a process of its own, so a test can kill it the hard way (SIGKILL: no shutdown code runs).
/// It starts from an empty content root: its settings are the test's, not the default appsettings.json.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The service, or the replica id when one was given.</summary>
    public string Name { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static ServiceProcess Start(string service, IEnumerable<(string Key, string? Value)> settings, string? replicaId = null)
    {
        var start = new ProcessStartInfo("dotnet", [TestPaths.ServiceHostDll(service), "--contentRoot", TestPaths.NewTempDirectory("content-root")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        if (replicaId is not null)
            start.Environment["REPLICA_ID"] = replicaId;
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["API_TOKENS"] = TestApiTokens.Setting;
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        // "Now listening on" is how the test learns the host is up and where: whatever else the settings quieten.
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        return new ServiceProcess(replicaId ?? service, Process.Start(start)!);
    }

    /// <summary>
    /// Waits until the host says its bus has started (connected, with its queues bound) and that it listens for HTTP
    /// (the bus starts first, the server after; both lines are Information, the level this class starts hosts at).
    /// </summary>
    public async Task WaitUntilStartedAsync(TimeSpan timeout)
    {
        await Eventually.Until(() => Task.FromResult(Output), o => _process.HasExited
            || (o.Contains("Bus started", StringComparison.Ordinal) && o.Contains("Now listening on", StringComparison.Ordinal)),
            timeout, $"{Name} to start");
        if (_process.HasExited)
            throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}):\n{Output}");
    }

    /// <summary>Waits until the host has written <paramref name="text"/> (failing at once if it exits first).</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        await Eventually.Until(() => Task.FromResult(Output), o => _process.HasExited || o.Contains(text, StringComparison.Ordinal), timeout, $"{Name} to say \"{text}\"");
        if (_process.HasExited)
            throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}):\n{Output}");
    }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    /// <summary>The process's resident memory now (VmRSS), in MiB.</summary>
    public double ResidentMegabytes() => Status("VmRSS:");

    /// <summary>The most resident memory the process has had (VmHWM, its high-water mark), in MiB.</summary>
    public double PeakResidentMegabytes() => Status("VmHWM:");

    private double Status(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>
    /// The process's proportional share of memory now (Pss), in MiB: pages it shares with other processes (the .NET runtime
    /// and framework the services all map) count by their share, so the services' Pss add up to what they take together.
    /// </summary>
    public double ProportionalMegabytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/smaps_rollup").First(l => l.StartsWith("Pss:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>Where the host listens, from its "Now listening on" line (known once it has started).</summary>
    public Uri Address =>
        System.Text.RegularExpressions.Regex.Match(Output, @"Now listening on: (http://\S+)") is { Success: true } match
            ? new Uri(match.Groups[1].Value)
            : throw new InvalidOperationException($"{Name} has not said where it listens");

    /// <summary>SIGKILL: the process vanishes without a word, as a crashed or OOM-killed one does.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: a graceful stop.
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await term.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Not down after 30 s (a machine this busy is slow to stop): what the test is about is over; SIGKILL.
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }
}
