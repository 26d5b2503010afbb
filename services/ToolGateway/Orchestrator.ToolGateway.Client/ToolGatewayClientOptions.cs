using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway.Client;

public sealed class ToolGatewayClientOptions : IValidatedOptions
{
    /// <summary>How long to wait for a workspace (clone and server start).</summary>
    [ConfigurationKeyName("WORKSPACE_REQUEST_TIMEOUT")]
    public TimeSpan WorkspaceRequestTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long to wait for one tool call; above ToolGateway's TOOL_CALL_TIMEOUT so its typed Timeout arrives first.</summary>
    [ConfigurationKeyName("TOOL_REQUEST_TIMEOUT")]
    public TimeSpan ToolRequestTimeout { get; set; } = TimeSpan.FromSeconds(90);

    public IEnumerable<string> Validate()
    {
        if (WorkspaceRequestTimeout <= TimeSpan.Zero)
            yield return "WORKSPACE_REQUEST_TIMEOUT must be positive";
        if (ToolRequestTimeout <= TimeSpan.Zero)
            yield return "TOOL_REQUEST_TIMEOUT must be positive";
    }
}
