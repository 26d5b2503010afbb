using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>
/// One running MCP server and the one stdio connection that carries all of its calls, many at a time. It knows the
/// moment its process exits (<see cref="Exited"/>): calls in flight then fail as <see cref="ServerCrashedException"/>.
/// </summary>
public sealed class McpServerInstance : IAsyncDisposable
{
    // Pinned: an unpinned client probes first and can lose seconds against servers that ignore unknown methods.
    public const string ProtocolVersion = "2025-06-18";

    private readonly McpClient _client;
    private readonly IServerConnection _process;
    private readonly IAsyncDisposable _listChanged;
    private volatile IReadOnlyList<McpClientTool> _tools;

    private McpServerInstance(string name, ServerLaunch launch, IServerConnection process, McpClient client, IReadOnlyList<McpClientTool> tools,
        Func<McpServerInstance, IAsyncDisposable> subscribe)
    {
        Name = name;
        Launch = launch;
        _process = process;
        _client = client;
        _tools = tools;
        _listChanged = subscribe(this);
    }

    public string Name { get; }
    public ServerLaunch Launch { get; }

    /// <summary>Set before an intended stop, so its exit is not taken for a crash.</summary>
    public bool Stopping { get; set; }

    /// <summary>Completes when the server's process (or container) has exited, for whatever reason.</summary>
    public Task<ClientCompletionDetails> Exited => _client.Completion;

    public IReadOnlyList<McpClientTool> Tools => _tools;

    /// <summary>Raised after the server announced a new tool list and it was read again.</summary>
    public event Action<McpServerInstance>? ToolsChanged;

    /// <summary>How the server's process ended, with its last lines on stderr (redacted).</summary>
    public Task<string> DescribeExitAsync() => _process.DescribeAsync();

    public static async Task<McpServerInstance> StartAsync(
        ServerLaunch launch, ILoggerFactory loggers, ServerSecrets secrets, int maxMessageBytes, CancellationToken cancellationToken)
    {
        var name = launch.Transport.Name!;
        IServerConnection transport = launch.InProcess?.Invoke(loggers) ?? new ServerProcess(launch, maxMessageBytes, secrets, loggers);

        McpClient client;
        try
        {
            client = await McpClient.CreateAsync(transport, new McpClientOptions
            {
                ProtocolVersion = ProtocolVersion,
                ClientInfo = new Implementation { Name = "orchestrator-toolgateway", Version = "1.0" },
            }, loggers, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The transport's own message is generic ("Failed to connect transport"); the reason is underneath.
            throw new ServerStartException($"Server {name} did not start: {secrets.Redact((e.InnerException ?? e).Message)}", e);
        }
        try
        {
            var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
            return new McpServerInstance(name, launch, transport, client, [.. tools], instance =>
                client.RegisterNotificationHandler(NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    // Not awaited: the listing's answer arrives on the loop that is running this handler.
                    _ = instance.RefreshToolsAsync();
                    return ValueTask.CompletedTask;
                }));
        }
        catch (Exception e)
        {
            await client.DisposeAsync();
            throw e is OperationCanceledException && cancellationToken.IsCancellationRequested
                ? e
                : new ServerStartException($"Server {name} did not list its tools: {secrets.Redact(e.Message)}", e);
        }
    }

    public bool HasTool(string tool) => _tools.Any(t => t.Name == tool);

    /// <summary>
    /// Calls a tool. Cancelling <paramref name="cancellationToken"/> sends the server <c>notifications/cancelled</c> for the
    /// request (the SDK does, once the request is out); the server exiting meanwhile throws <see cref="ServerCrashedException"/>.
    /// </summary>
    public async Task<CallToolResult> CallAsync(string tool, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        var call = _client.CallToolAsync(tool, arguments, cancellationToken: cancellationToken).AsTask();
        if (await Task.WhenAny(call, Exited) != call)
        {
            _ = call.ContinueWith(t => t.Exception, TaskScheduler.Default);
            throw new ServerCrashedException(await DescribeExitAsync());
        }
        try
        {
            return await call;
        }
        catch (Exception e) when (e is not McpProtocolException and not OperationCanceledException)
        {
            // The connection broke under the call: if the process is gone (or going), that is the crash.
            if (await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None)) == Exited)
                throw new ServerCrashedException(await DescribeExitAsync(), e);
            throw;
        }
    }

    public static IReadOnlyList<ToolContent> ToContent(CallToolResult result, ServerSecrets secrets) =>
        [.. result.Content.Select(block => block switch
        {
            TextContentBlock text => new ToolContent("text", secrets.Redact(text.Text)),
            // Data holds the base64 text as UTF-8 bytes.
            ImageContentBlock image => new ToolContent("image", null, image.MimeType, Encoding.UTF8.GetString(image.Data.Span)),
            AudioContentBlock audio => new ToolContent("audio", null, audio.MimeType, Encoding.UTF8.GetString(audio.Data.Span)),
            _ => new ToolContent(block.Type, secrets.Redact(JsonSerializer.Serialize(block, McpJsonUtilities.DefaultOptions))),
        })];

    private async Task RefreshToolsAsync()
    {
        try
        {
            _tools = [.. await _client.ListToolsAsync()];
            ToolsChanged?.Invoke(this);
        }
        catch (Exception e) when (e is McpException or OperationCanceledException or IOException)
        {
            // The server is going away; the next instance lists its tools when it starts.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stopping = true;
        await _listChanged.DisposeAsync();
        await _client.DisposeAsync();
    }
}

/// <summary>The server's process exited while a call was in flight.</summary>
public sealed class ServerCrashedException(string message, Exception? inner = null) : Exception(message, inner);
