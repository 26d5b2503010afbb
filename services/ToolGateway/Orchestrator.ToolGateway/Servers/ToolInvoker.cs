using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Replicas;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Launchers;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>The outcome of one call: exactly one of the two is set.</summary>
public readonly record struct ToolCallOutcome(ToolCallCompleted? Completed, ToolCallFailed? Failed);

/// <summary>Runs one tool call on a server, turning every way it can go wrong into a typed failure.</summary>
public sealed partial class ToolInvoker(IOptions<ToolGatewayOptions> options, IOptions<Sandboxes.SandboxOptions> sandboxOptions, Replica replica, ServerSecrets secrets, ILogger<ToolInvoker> logger)
{
    public async Task<ToolCallOutcome> InvokeAsync(CallTool call, McpServer? server, CancellationToken cancellationToken)
    {
        using var activity = ToolGatewayTelemetry.Source.Start("call tool", call.CorrelationId);
        activity?.SetTag("mcp.server", call.Server);
        activity?.SetTag("mcp.tool", call.Tool);
        activity?.SetTag("orchestrator.replica", replica.Id);

        if (server is null)
            return Fail(call, ToolFailureReason.UnknownTool, $"No server '{call.Server}'");
        if (!server.Definition.Tools.Permits(call.Tool))
            return Fail(call, ToolFailureReason.Denied, $"Tool '{call.Tool}' of server '{call.Server}' is not allowed by the catalog");

        Dictionary<string, JsonElement> values;
        try
        {
            values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(string.IsNullOrWhiteSpace(call.ArgumentsJson) ? "{}" : call.ArgumentsJson)!;
        }
        catch (JsonException e)
        {
            return Fail(call, ToolFailureReason.InvalidArguments, $"Arguments are not a JSON object: {e.Message}");
        }
        if (server.Definition.OneRepository && !ReachesOnly(server.Placement.Repository, values))
        {
            return Fail(call, ToolFailureReason.Denied,
                $"Server '{call.Server}' may reach only the work item's repository ({server.Placement.Repository ?? "none named"}): give it as owner and repo");
        }
        var arguments = values.ToDictionary(p => p.Key, p => (object?)p.Value);

        // A command or a test run may take longer than any other tool: the sandbox has limits of its own.
        var timeoutAfter = server.Definition.Builtin == Catalog.BuiltinServer.Sandbox ? sandboxOptions.Value.CallTimeout : options.Value.ToolCallTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutAfter);
        var started = Stopwatch.GetTimestamp();
        ServerLease lease;
        try
        {
            lease = await server.AcquireAsync(timeout.Token);
        }
        catch (ServerStartException e)
        {
            return Fail(call, ToolFailureReason.ServerUnavailable, secrets.Redact(e.Message));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Fail(call, ToolFailureReason.Timeout, $"Server '{call.Server}' did not start within {timeoutAfter.TotalSeconds:0.#} s");
        }

        using (lease)
        {
            if (!lease.Instance.HasTool(call.Tool))
                return Fail(call, ToolFailureReason.UnknownTool, $"No tool '{call.Tool}' on server '{call.Server}'");
            // Only the tools it offers: one that does not say which repository it reaches is not offered.
            if (server.Definition.OneRepository && !server.Tools.Any(t => t.Name == call.Tool))
                return Fail(call, ToolFailureReason.Denied, $"Tool '{call.Tool}' of server '{call.Server}' does not name the repository it reaches");
            try
            {
                var result = await lease.Instance.CallAsync(call.Tool, arguments, timeout.Token);
                lease.Answered = true;
                activity?.SetTag("mcp.is_error", result.IsError == true);
                return new ToolCallOutcome(new ToolCallCompleted(call.CorrelationId, call.Server, call.Tool, result.IsError == true,
                    McpServerInstance.ToContent(result, secrets), Stopwatch.GetElapsedTime(started)), null);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The SDK has told the server to cancel the request.
                return Fail(call, ToolFailureReason.Timeout, $"No answer within {timeoutAfter.TotalSeconds:0.#} s; the server was told to cancel");
            }
            catch (ServerCrashedException e)
            {
                return Fail(call, ToolFailureReason.ServerCrashed, $"Server '{call.Server}' {e.Message} during the call; the next call restarts it");
            }
            catch (McpProtocolException e) when (e.ErrorCode == McpErrorCode.InvalidParams)
            {
                lease.Answered = true;
                return Fail(call, ToolFailureReason.InvalidArguments, secrets.Redact(e.Message));
            }
            catch (McpProtocolException e)
            {
                // The server answered with an error of its own: that is the tool's result, for the caller to see.
                lease.Answered = true;
                return new ToolCallOutcome(new ToolCallCompleted(call.CorrelationId, call.Server, call.Tool, true,
                    [new ToolContent("text", secrets.Redact(e.Message))], Stopwatch.GetElapsedTime(started)), null);
            }
            catch (Exception e) when (e is McpException or IOException or InvalidOperationException)
            {
                logger.LogWarning("Call {Server}.{Tool} for {CorrelationId} failed: {Error}", call.Server, call.Tool, call.CorrelationId, secrets.Redact(e.Message));
                return Fail(call, ToolFailureReason.ServerUnavailable, secrets.Redact(e.Message));
            }
        }
    }

    /// <summary>
    /// The call names the repository (owner and repo, as strings), it is <paramref name="repository"/>, and no other
    /// argument widens a search beyond it (GitHub's search joins <c>repo:</c>, <c>org:</c> and <c>user:</c> qualifiers).
    /// </summary>
    private static bool ReachesOnly(string? repository, IReadOnlyDictionary<string, JsonElement> arguments) =>
        repository?.Split('/') is [var owner, var name]
        && arguments.TryGetValue("owner", out var o) && o.ValueKind == JsonValueKind.String && string.Equals(o.GetString(), owner, StringComparison.OrdinalIgnoreCase)
        && arguments.TryGetValue("repo", out var r) && r.ValueKind == JsonValueKind.String && string.Equals(r.GetString(), name, StringComparison.OrdinalIgnoreCase)
        && !arguments.Where(a => a.Key is not ("owner" or "repo")).Any(a => Qualifier().IsMatch(a.Value.GetRawText()));

    [System.Text.RegularExpressions.GeneratedRegex(@"(?i)\b(repo|org|user|owner)\s*:")]
    private static partial System.Text.RegularExpressions.Regex Qualifier();

    private static ToolCallOutcome Fail(CallTool call, ToolFailureReason reason, string message)
    {
        Activity.Current?.SetStatus(ActivityStatusCode.Error, reason.ToString());
        Activity.Current?.SetTag("mcp.failure", reason.ToString());
        return new ToolCallOutcome(null, new ToolCallFailed(call.CorrelationId, call.Server, call.Tool, reason, message));
    }
}
