using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Orchestrator.Contracts;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>A running MCP server and the one stdio connection that carries all of its calls.</summary>
public sealed class McpServerInstance : IAsyncDisposable
{
    // Pinned: an unpinned client probes first and can lose seconds against servers that ignore unknown methods.
    public const string ProtocolVersion = "2025-06-18";

    private readonly McpClient _client;

    private McpServerInstance(string name, McpClient client, IReadOnlyList<McpClientTool> tools)
    {
        Name = name;
        _client = client;
        Tools = tools;
    }

    public string Name { get; }
    public IReadOnlyList<McpClientTool> Tools { get; }

    public IEnumerable<ToolDescriptor> Describe() =>
        Tools.Select(t => new ToolDescriptor(Name, t.Name, t.Description ?? "", t.JsonSchema.GetRawText()));

    public static async Task<McpServerInstance> StartAsync(
        McpServerDefinition definition, string? workspace, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = definition.Name,
            Command = definition.Command!,
            Arguments = [.. definition.Args.Select(a => workspace is null ? a : a.Replace("{workspace}", workspace))],
            WorkingDirectory = workspace,
            // The child gets nothing of the gateway's environment: secrets reach a server only by name, on purpose.
            InheritEnvironmentVariables = false,
            EnvironmentVariables = new Dictionary<string, string?> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") },
            ShutdownTimeout = TimeSpan.FromSeconds(1),
        }, loggers);
        var client = await McpClient.CreateAsync(transport, new McpClientOptions
        {
            ProtocolVersion = ProtocolVersion,
            ClientInfo = new Implementation { Name = "orchestrator-toolgateway", Version = "1.0" },
        }, loggers, cancellationToken);
        try
        {
            var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
            return new McpServerInstance(definition.Name, client, [.. tools]);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public bool HasTool(string tool) => Tools.Any(t => t.Name == tool);

    public async Task<CallToolResult> CallAsync(string tool, IReadOnlyDictionary<string, object?> arguments, CancellationToken cancellationToken) =>
        await _client.CallToolAsync(tool, arguments, cancellationToken: cancellationToken);

    public static IReadOnlyList<ToolContent> ToContent(CallToolResult result) =>
        [.. result.Content.Select(block => block switch
        {
            TextContentBlock text => new ToolContent("text", text.Text),
            // Data holds the base64 text as UTF-8 bytes.
            ImageContentBlock image => new ToolContent("image", null, image.MimeType, Encoding.UTF8.GetString(image.Data.Span)),
            AudioContentBlock audio => new ToolContent("audio", null, audio.MimeType, Encoding.UTF8.GetString(audio.Data.Span)),
            _ => new ToolContent(block.Type, JsonSerializer.Serialize(block, McpJsonUtilities.DefaultOptions)),
        })];

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
