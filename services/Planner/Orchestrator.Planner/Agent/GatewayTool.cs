using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Orchestrator.Contracts;
using Orchestrator.Planner.Runs;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.Planner.Agent;

/// <summary>What a tool call gave the model: the text it sees, and whether it was a failure.</summary>
public sealed record ToolOutcome(string Text, bool IsError, TimeSpan Duration);

/// <summary>
/// A ToolGateway tool as the model sees it: its schema from the gateway's catalog, and an invocation that is a
/// <c>CallTool</c> request to the replica holding the session. Whatever goes wrong on the way (an unknown tool, a
/// timeout, a crashed server, a lost session) comes back as an error result for the model, not an exception.
/// </summary>
public sealed class GatewayTool : AIFunction
{
    private readonly ToolGatewayClient _gateway;
    private readonly WorkspaceOpened _session;
    private readonly int _maxResultChars;

    private GatewayTool(ToolDescriptor descriptor, string name, ToolGatewayClient gateway, WorkspaceOpened session, int maxResultChars)
    {
        Descriptor = descriptor;
        Name = name;
        JsonSchema = ParseSchema(descriptor.InputSchema);
        _gateway = gateway;
        _session = session;
        _maxResultChars = maxResultChars;
    }

    public ToolDescriptor Descriptor { get; }
    public override string Name { get; }
    public override string Description => Descriptor.Description;
    public override JsonElement JsonSchema { get; }

    /// <summary>"server.tool", as the gateway and the transcript name it.</summary>
    public string QualifiedName => $"{Descriptor.Server}.{Descriptor.Name}";

    /// <summary>The session's tools, named <c>server_tool</c> (function names allow letters, digits, _ and -, up to 64).</summary>
    public static IReadOnlyList<GatewayTool> For(WorkspaceOpened session, IEnumerable<ToolDescriptor> tools, ToolGatewayClient gateway, int maxResultChars)
    {
        var byName = new Dictionary<string, GatewayTool>(StringComparer.Ordinal);
        foreach (var tool in tools)
        {
            var name = FunctionName(tool);
            byName.TryAdd(name, new GatewayTool(tool, name, gateway, session, maxResultChars));
        }
        return [.. byName.Values];
    }

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        using var activity = PlannerTelemetry.Source.Start($"tool {QualifiedName}", _session.CorrelationId, ActivityKind.Client);
        activity?.SetTag("gen_ai.tool.name", QualifiedName);
        var json = JsonSerializer.Serialize(arguments, AIJsonUtilities.DefaultOptions);
        var started = Stopwatch.GetTimestamp();
        var (completed, failed) = await _gateway.CallToolAsync(_session, Descriptor.Server, Descriptor.Name, json, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (failed?.Reason == ToolFailureReason.SessionLost)
            throw new WorkspaceLostException($"The ToolGateway replica holding the workspace went away during {QualifiedName}.");
        if (failed is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, failed.Reason.ToString());
            return new ToolOutcome($"Tool call failed ({failed.Reason}): {failed.Message}", IsError: true, elapsed);
        }
        if (completed!.IsError)
            activity?.SetStatus(ActivityStatusCode.Error, "tool error");
        return new ToolOutcome(Cut(Text(completed.Content)), completed.IsError, completed.Duration);
    }

    private static string Text(IReadOnlyList<ToolContent> content)
    {
        var text = new StringBuilder();
        foreach (var block in content)
        {
            if (text.Length > 0)
                text.Append('\n');
            text.Append(block.Text ?? $"[{block.Type}{(block.MimeType is { } mime ? $" {mime}" : "")}, {block.Data?.Length ?? 0} base64 characters, not shown]");
        }
        return text.ToString();
    }

    private string Cut(string text) =>
        text.Length <= _maxResultChars ? text : $"{text[.._maxResultChars]}\n[… {text.Length - _maxResultChars:N0} more characters cut]";

    private static string FunctionName(ToolDescriptor tool)
    {
        var name = new StringBuilder($"{tool.Server}_{tool.Name}");
        for (var i = 0; i < name.Length; i++)
            if (!(char.IsAsciiLetterOrDigit(name[i]) || name[i] is '_' or '-'))
                name[i] = '_';
        return name.Length <= 64 ? name.ToString() : name.ToString(0, 64);
    }

    private static JsonElement ParseSchema(string schema)
    {
        try
        {
            using var document = JsonDocument.Parse(schema);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
                return document.RootElement.Clone();
        }
        catch (JsonException)
        {
        }
        // A server that gives no usable schema still gets a callable tool: any object.
        return JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();
    }
}
