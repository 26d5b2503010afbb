using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Sandboxes;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>
/// One catalog server in one place (the replica's shared servers, or a session's workspace) over its lifetime: started
/// on first use and reused while busy, stopped after <see cref="ToolGatewayOptions.ServerIdleTimeout"/> without calls,
/// restarted on the next call after a crash, with a growing pause when it keeps crashing. Its last known tool list
/// outlives its instances.
/// </summary>
public sealed class McpServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly McpServerFactory _runtime;
    private readonly ServerPlacement _placement;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Task<McpServerInstance>? _instance;
    private int _inFlight;
    private int _failures;
    private DateTimeOffset _retryAt;
    private ITimer? _idleTimer;
    private bool _disposed;
    private IReadOnlyList<ToolDescriptor> _tools = [];

    internal McpServer(McpServerDefinition definition, ServerPlacement placement, McpServerFactory runtime)
    {
        Definition = definition;
        _placement = placement;
        _runtime = runtime;
        _logger = runtime.Loggers.CreateLogger<McpServer>();
    }

    public McpServerDefinition Definition { get; }
    public string Name => Definition.Name;

    /// <summary>Where it runs: shared, or a session's workspace (and repository).</summary>
    public ServerPlacement Placement => _placement;

    /// <summary>The tools callers may use, as the server last listed them (empty until it first started).</summary>
    public IReadOnlyList<ToolDescriptor> Tools => _tools;

    private ToolGatewayOptions Options => _runtime.Options.Value;

    /// <summary>Starts the server now, if it is not running, to learn its tools. A failure is logged and kept for the next call.</summary>
    /// <summary>Starts the server if it is not running; returns why it could not start, or null.</summary>
    public async Task<string?> WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var lease = await AcquireAsync(cancellationToken, waitForRestart: false);
            return null;
        }
        catch (ServerStartException e)
        {
            // Logged where it happened; calls to this server fail with its reason until it starts.
            return e.Message;
        }
    }

    /// <summary>
    /// A running instance for one call, started if need be. Dispose the lease when the call is over.
    /// Throws <see cref="ServerStartException"/> when the server cannot be started, or, after repeated failures, when its
    /// next restart is further away than a call may wait (any wait at all, without <paramref name="waitForRestart"/>).
    /// </summary>
    public async Task<ServerLease> AcquireAsync(CancellationToken cancellationToken, bool waitForRestart = true)
    {
        Task<McpServerInstance> task;
        lock (_lock)
        {
            if (_disposed)
                throw new ServerStartException($"Server {Name} has been stopped");
            if (_instance is null || _instance.IsFaulted || _instance.IsCanceled)
            {
                var wait = _retryAt - _runtime.Time.GetUtcNow();
                if (wait > (waitForRestart ? Options.ToolCallTimeout : TimeSpan.Zero))
                    throw new ServerStartException($"Server {Name} failed {_failures} times in a row; it restarts in {wait.TotalSeconds:0} s");
                // On the pool, so the lock is not held while the container starts.
                var delay = wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
                _instance = Task.Run(() => StartInstanceAsync(delay));
            }
            task = _instance;
            _inFlight++;
            _idleTimer?.Dispose();
            _idleTimer = null;
        }
        try
        {
            return new ServerLease(this, await task.WaitAsync(cancellationToken));
        }
        catch
        {
            lock (_lock)
            {
                if (_instance == task && task.IsFaulted)
                    _instance = null;
            }
            Release(answered: false);
            throw;
        }
    }

    internal void Release(bool answered)
    {
        lock (_lock)
        {
            _inFlight--;
            if (answered)
                _failures = 0;
            if (_inFlight == 0 && !_disposed)
                _idleTimer = _runtime.Time.CreateTimer(_ => _ = StopIfIdleAsync(), null, Options.ServerIdleTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task<McpServerInstance> StartInstanceAsync(TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
            await Task.Delay(delay, _runtime.Time);
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(StartTimeout);
        ServerLaunch? launch = null;
        try
        {
            launch = Definition.Builtin is { } builtin ? LaunchBuiltin(builtin) : await _runtime.Launcher.PrepareAsync(Definition, _placement, timeout.Token);
            var instance = await McpServerInstance.StartAsync(launch, _runtime.SdkLoggers, _runtime.Secrets, Options.ToolResultMaxBytes, timeout.Token);
            instance.ToolsChanged += UpdateTools;
            UpdateTools(instance);
            _ = instance.Exited.ContinueWith(_ => OnExitedAsync(instance), TaskScheduler.Default).Unwrap();
            bool disposed;
            lock (_lock)
                disposed = _disposed;
            if (disposed)
            {
                await StopInstanceAsync(instance);
                throw new ServerStartException($"Server {Name} has been stopped");
            }
            _logger.LogInformation("Server {Server} started{Container} in {Elapsed:0} ms with {Tools} tools",
                Name, launch.ContainerName is { } c ? $" as {c}" : "", Stopwatch.GetElapsedTime(started).TotalMilliseconds, instance.Tools.Count);
            return instance;
        }
        catch (Exception e)
        {
            if (launch is not null)
                await _runtime.Launcher.RemoveAsync(launch);
            lock (_lock)
                _retryAt = _runtime.Time.GetUtcNow() + Backoff(++_failures);
            var reason = e switch
            {
                ServerStartException named when named.Message.StartsWith($"Server {Name} ", StringComparison.Ordinal) => named,
                OperationCanceledException => new ServerStartException($"Server {Name} did not start within {StartTimeout.TotalSeconds:0} s", e),
                _ => new ServerStartException($"Server {Name} did not start: {_runtime.Secrets.Redact(e.Message)}", e),
            };
            _logger.LogWarning("{Reason}", reason.Message);
            throw reason;
        }
    }

    /// <summary>A server of the gateway's own, in its process: for the sandbox, the workspace's sandbox must have been begun.</summary>
    private ServerLaunch LaunchBuiltin(BuiltinServer builtin) => builtin switch
    {
        BuiltinServer.Sandbox when _placement.Sandbox is { } sandbox => new ServerLaunch(
            new ModelContextProtocol.Client.StdioClientTransportOptions { Name = Name, Command = "(built in)" }, null)
        {
            InProcess = loggers => new InProcessServer(Name, new SandboxTools(sandbox, _runtime.SandboxOptions.Value).Create(), loggers),
        },
        BuiltinServer.Sandbox => throw new ServerStartException($"Server {Name} did not start: the sandbox needs MCP_LAUNCHER=Docker and a workspace"),
        _ => throw new ServerStartException($"Server {Name} did not start: no built-in server {builtin}"),
    };

    private void UpdateTools(McpServerInstance instance) =>
        _tools = [.. instance.Tools.Where(t => Definition.Tools.Permits(t.Name) && (!Definition.OneRepository || McpServerDefinition.NamesRepository(t.JsonSchema)))
            .Select(t => new ToolDescriptor(Name, t.Name, t.Description ?? "", t.JsonSchema.GetRawText(),
                ReadOnly: t.ProtocolTool.Annotations?.ReadOnlyHint == true))];

    private async Task OnExitedAsync(McpServerInstance instance)
    {
        var crashed = !instance.Stopping;
        lock (_lock)
        {
            if (_instance is { IsCompletedSuccessfully: true } current && current.Result == instance)
                _instance = null;
            if (crashed)
                _retryAt = _runtime.Time.GetUtcNow() + Backoff(++_failures);
        }
        if (crashed)
            _logger.LogWarning("Server {Server} {Details}, unasked; it restarts on the next call", Name, await instance.DescribeExitAsync());
        await StopInstanceAsync(instance);
    }

    private async Task StopIfIdleAsync()
    {
        McpServerInstance? idle = null;
        lock (_lock)
        {
            if (_inFlight == 0 && !_disposed && _instance is { IsCompletedSuccessfully: true } running)
            {
                idle = running.Result;
                idle.Stopping = true;
                _instance = null;
            }
        }
        if (idle is not null)
        {
            _logger.LogInformation("Server {Server} idle for {Idle}; stopping it", Name, Options.ServerIdleTimeout);
            await StopInstanceAsync(idle);
        }
    }

    // The first restart is immediate; then 1 s, 2 s, 4 s … up to the configured maximum.
    private TimeSpan Backoff(int failures) => failures <= 1
        ? TimeSpan.Zero
        : TimeSpan.FromSeconds(Math.Min(Math.Pow(2, failures - 2), Options.RestartMaxBackoff.TotalSeconds));

    private async Task StopInstanceAsync(McpServerInstance instance)
    {
        instance.Stopping = true;
        try
        {
            // Removing the container does not wait for the stdio transport's own shutdown.
            await Task.WhenAll(_runtime.Launcher.RemoveAsync(instance.Launch), instance.DisposeAsync().AsTask());
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Server {Server} did not stop cleanly", Name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<McpServerInstance>? instance;
        lock (_lock)
        {
            _disposed = true;
            _idleTimer?.Dispose();
            instance = _instance;
            _instance = null;
        }
        if (instance is null)
            return;
        try
        {
            await StopInstanceAsync(await instance);
        }
        catch (ServerStartException)
        {
            // It never ran.
        }
    }
}

/// <summary>A running instance lent to one call; disposing it returns it.</summary>
public sealed class ServerLease(McpServer server, McpServerInstance instance) : IDisposable
{
    public McpServerInstance Instance { get; } = instance;

    /// <summary>Set when the server answered the call: a server that answers is healthy again.</summary>
    public bool Answered { get; set; }

    public void Dispose() => server.Release(Answered);
}

/// <summary>Creates <see cref="McpServer"/>s with what they all share.</summary>
public sealed class McpServerFactory(
    IServerLauncher launcher, ServerSecrets secrets, ILoggerFactory loggers, IOptions<ToolGatewayOptions> options, IOptions<SandboxOptions> sandboxOptions,
    TimeProvider time)
{
    internal IOptions<SandboxOptions> SandboxOptions => sandboxOptions;
    internal IServerLauncher Launcher => launcher;
    internal ServerSecrets Secrets => secrets;
    internal ILoggerFactory Loggers => loggers;
    internal ILoggerFactory SdkLoggers { get; } = new RedactingLoggerFactory(loggers, secrets);
    internal IOptions<ToolGatewayOptions> Options => options;
    internal TimeProvider Time => time;

    public McpServer Create(McpServerDefinition definition, ServerPlacement placement) => new(definition, placement, this);
}
