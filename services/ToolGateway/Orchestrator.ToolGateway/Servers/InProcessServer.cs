using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>How the gateway reaches a server instance: a process's stdio, or a server in the gateway's own process.</summary>
public interface IServerConnection : IClientTransport
{
    /// <summary>How the server ended, for a log line or a caller.</summary>
    Task<string> DescribeAsync();
}

/// <summary>
/// An MCP server that runs inside the gateway (a built-in server), reached over a pair of in-memory pipes with the
/// SDK's stream transports: it is called, timed out, cancelled and cut exactly like the servers in containers.
/// </summary>
public sealed class InProcessServer(string name, IEnumerable<McpServerTool> tools, ILoggerFactory loggers) : IServerConnection
{
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    public string Name => name;

    public Task<string> DescribeAsync() => Task.FromResult(_running.IsFaulted ? $"stopped: {_running.Exception!.InnerException!.Message}" : "stopped");

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var (toServer, toClient) = (new Pipe(), new Pipe());
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = $"orchestrator-{name}", Version = "1.0" },
            ToolCollection = [.. tools],
        };
        var transport = new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream(), name, loggers);
        var server = ModelContextProtocol.Server.McpServer.Create(transport, options, loggers);
        _running = Task.Run(async () =>
        {
            try
            {
                await server.RunAsync(_stop.Token);
            }
            finally
            {
                await server.DisposeAsync();
                await toClient.Writer.CompleteAsync();
            }
        }, CancellationToken.None);
        var client = await new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream(), loggers).ConnectAsync(cancellationToken);
        return new Session(client, this);
    }

    private sealed class Session(ITransport inner, InProcessServer server) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public System.Threading.Channels.ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await server._stop.CancelAsync();
            await inner.DisposeAsync();
            await server._running.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
