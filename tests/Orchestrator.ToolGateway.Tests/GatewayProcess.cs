using System.Diagnostics;
using System.Text;
using Orchestrator.Testing;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>
/// The real ToolGateway host as a process of its own, so a test can kill it the hard way (SIGKILL: no shutdown code runs).
/// It starts from an empty content root: its catalog is the test's, not the default appsettings.json.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(string replicaId, Process process)
    {
        ReplicaId = replicaId;
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string ReplicaId { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static GatewayProcess Start(string replicaId, IEnumerable<(string Key, string? Value)> settings)
    {
        var start = new ProcessStartInfo("dotnet", [TestPaths.ServiceHostDll("ToolGateway"), "--contentRoot", TestPaths.NewTempDirectory("content-root")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["REPLICA_ID"] = replicaId;
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        return new GatewayProcess(replicaId, Process.Start(start)!);
    }

    /// <summary>SIGKILL: the replica vanishes without a word, as a crashed or OOM-killed one does.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: a graceful stop, which removes its containers.
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await term.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
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
