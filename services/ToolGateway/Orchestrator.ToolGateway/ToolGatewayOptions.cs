using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway;

public enum ServerScope
{
    /// <summary>One instance per replica, shared by every caller (for example GitHub).</summary>
    Shared,

    /// <summary>One instance per workspace session, working in that workspace (for example filesystem, git).</summary>
    Workspace,
}

/// <summary>One MCP server of the catalog. In <see cref="Args"/>, "{workspace}" stands for the session's workspace path.</summary>
public sealed class McpServerDefinition
{
    public string Name { get; set; } = "";
    public ServerScope Scope { get; set; } = ServerScope.Workspace;
    public string? Command { get; set; }
    public List<string> Args { get; set; } = [];
}

public sealed class ToolGatewayOptions : IValidatedOptions
{
    /// <summary>Where this gateway creates workspaces (one folder per session).</summary>
    [ConfigurationKeyName("WORKSPACES_PATH")]
    public string WorkspacesPath { get; set; } = "workspaces";

    /// <summary>This replica's id: names its own queue. Defaults to the host name and a random suffix.</summary>
    [ConfigurationKeyName("REPLICA_ID")]
    public string? ReplicaId { get; set; }

    /// <summary>How long one tool call may take; below the Planner's request timeout.</summary>
    [ConfigurationKeyName("TOOL_CALL_TIMEOUT")]
    public TimeSpan ToolCallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    [ConfigurationKeyName("MCP_SERVERS")]
    public List<McpServerDefinition> Servers { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(WorkspacesPath))
            yield return "WORKSPACES_PATH must not be empty";
        if (ToolCallTimeout <= TimeSpan.Zero)
            yield return "TOOL_CALL_TIMEOUT must be positive";
        if (Servers.Count == 0)
            yield return "MCP_SERVERS lists no server";
        foreach (var (server, i) in Servers.Select((s, i) => (s, i)))
        {
            if (string.IsNullOrWhiteSpace(server.Name))
                yield return $"MCP_SERVERS:{i}:Name is required";
            if (string.IsNullOrWhiteSpace(server.Command))
                yield return $"MCP_SERVERS:{i}:Command is required";
        }
        foreach (var duplicate in Servers.GroupBy(s => s.Name).Where(g => g.Count() > 1))
            yield return $"MCP_SERVERS names '{duplicate.Key}' more than once";
    }
}
