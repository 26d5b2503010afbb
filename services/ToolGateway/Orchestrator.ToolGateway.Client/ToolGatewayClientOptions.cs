using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway.Client;

public sealed class ToolGatewayClientOptions : IValidatedOptions
{
    /// <summary>How long to wait for a workspace (clone and server start).</summary>
    [ConfigurationKeyName("WORKSPACE_REQUEST_TIMEOUT")]
    public TimeSpan WorkspaceRequestTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// How long to wait for one tool call; above ToolGateway's TOOL_CALL_TIMEOUT and its sandbox's longest command or test
    /// run (SANDBOX_COMMAND_MAX_TIMEOUT, SANDBOX_TEST_TIMEOUT), so its typed Timeout arrives first. A replica that dies is
    /// noticed by its heartbeats, not by this.
    /// </summary>
    [ConfigurationKeyName("TOOL_REQUEST_TIMEOUT")]
    public TimeSpan ToolRequestTimeout { get; set; } = TimeSpan.FromMinutes(6);

    /// <summary>How long to wait for a verification: two fresh sandboxes set up and the test command run in each.</summary>
    [ConfigurationKeyName("VERIFY_REQUEST_TIMEOUT")]
    public TimeSpan VerifyRequestTimeout { get; set; } = TimeSpan.FromMinutes(20);

    public IEnumerable<string> Validate()
    {
        if (WorkspaceRequestTimeout <= TimeSpan.Zero)
            yield return "WORKSPACE_REQUEST_TIMEOUT must be positive";
        if (ToolRequestTimeout <= TimeSpan.Zero)
            yield return "TOOL_REQUEST_TIMEOUT must be positive";
        if (VerifyRequestTimeout <= TimeSpan.Zero)
            yield return "VERIFY_REQUEST_TIMEOUT must be positive";
    }
}
