using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>The outcome of one call: exactly one of the two is set.</summary>
public readonly record struct ToolCallOutcome(ToolCallCompleted? Completed, ToolCallFailed? Failed);

/// <summary>Runs one tool call on a server instance, turning every way it can go wrong into a typed failure.</summary>
public sealed class ToolInvoker(IOptions<ToolGatewayOptions> options, ILogger<ToolInvoker> logger)
{
    public async Task<ToolCallOutcome> InvokeAsync(CallTool call, McpServerInstance? server, CancellationToken cancellationToken)
    {
        using var activity = ToolGatewayTelemetry.Source.Start("call tool", call.CorrelationId);
        activity?.SetTag("mcp.server", call.Server);
        activity?.SetTag("mcp.tool", call.Tool);

        if (server is null || !server.HasTool(call.Tool))
            return Fail(call, ToolFailureReason.UnknownTool, $"No tool '{call.Tool}' on server '{call.Server}'");

        Dictionary<string, object?> arguments;
        try
        {
            arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
                string.IsNullOrWhiteSpace(call.ArgumentsJson) ? "{}" : call.ArgumentsJson)!
                .ToDictionary(p => p.Key, p => (object?)p.Value);
        }
        catch (JsonException e)
        {
            return Fail(call, ToolFailureReason.InvalidArguments, $"Arguments are not a JSON object: {e.Message}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.ToolCallTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await server.CallAsync(call.Tool, arguments, timeout.Token);
            activity?.SetTag("mcp.is_error", result.IsError == true);
            return new ToolCallOutcome(new ToolCallCompleted(call.CorrelationId, call.Server, call.Tool, result.IsError == true,
                McpServerInstance.ToContent(result), Stopwatch.GetElapsedTime(started)), null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Fail(call, ToolFailureReason.Timeout, $"No answer within {options.Value.ToolCallTimeout.TotalSeconds:0.#} s");
        }
        catch (McpProtocolException e) when (e.ErrorCode == McpErrorCode.InvalidParams)
        {
            return Fail(call, ToolFailureReason.InvalidArguments, e.Message);
        }
        catch (McpException e)
        {
            logger.LogWarning(e, "Call {Server}.{Tool} for {CorrelationId} failed", call.Server, call.Tool, call.CorrelationId);
            return Fail(call, ToolFailureReason.ServerUnavailable, e.Message);
        }
    }

    private static ToolCallOutcome Fail(CallTool call, ToolFailureReason reason, string message)
    {
        Activity.Current?.SetStatus(ActivityStatusCode.Error, reason.ToString());
        return new ToolCallOutcome(null, new ToolCallFailed(call.CorrelationId, call.Server, call.Tool, reason, message));
    }
}
