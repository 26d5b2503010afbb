namespace Orchestrator.Contracts;

/// <summary>Open a workspace session: clone <paramref name="CloneUrl"/> at <paramref name="BaseBranch"/> and create <paramref name="WorkBranch"/>.</summary>
public record OpenWorkspace(Guid CorrelationId, string CloneUrl, string BaseBranch, string WorkBranch);

/// <summary>
/// A workspace is ready. Every later request for the session goes to <paramref name="ReplicaAddress"/>, the queue of the
/// replica that holds it. <paramref name="WorkspaceRoot"/> is the workspace's path as the tools see it.
/// </summary>
/// <param name="Unavailable">Why each of the workspace's servers that could not start did not; their tools are missing.</param>
public record WorkspaceOpened(
    Guid CorrelationId,
    Guid SessionId,
    Uri ReplicaAddress,
    string WorkspaceRoot,
    string BaseCommit,
    IReadOnlyList<ToolDescriptor> Tools,
    IReadOnlyList<string>? Unavailable = null);

/// <summary>A tool as its MCP server describes it. <paramref name="InputSchema"/> is a JSON schema.</summary>
/// <param name="ReadOnly">The server declares that the tool changes nothing (MCP's readOnlyHint annotation).</param>
public record ToolDescriptor(string Server, string Name, string Description, string InputSchema, bool ReadOnly = false);

/// <summary>List the tools of the shared servers, and of the session's servers when <paramref name="SessionId"/> is set.</summary>
public record ListTools(Guid CorrelationId, Guid? SessionId);

public record ToolCatalog(Guid CorrelationId, IReadOnlyList<ToolDescriptor> Tools);

/// <summary>Call one tool. <paramref name="ArgumentsJson"/> is a JSON object.</summary>
public record CallTool(Guid CorrelationId, Guid? SessionId, string Server, string Tool, string ArgumentsJson);

/// <summary>The server answered. <paramref name="IsError"/> is the tool's own error flag (a result, not a gateway failure).</summary>
public record ToolCallCompleted(
    Guid CorrelationId,
    string Server,
    string Tool,
    bool IsError,
    IReadOnlyList<ToolContent> Content,
    TimeSpan Duration);

/// <summary>One block of a tool result: text, or base64 data with its MIME type.</summary>
public record ToolContent(string Type, string? Text, string? MimeType = null, string? Data = null);

/// <summary>The gateway could not get an answer from the tool.</summary>
public record ToolCallFailed(Guid CorrelationId, string Server, string Tool, ToolFailureReason Reason, string Message);

public enum ToolFailureReason
{
    UnknownTool,
    Denied,
    InvalidArguments,
    Timeout,
    ServerCrashed,
    ServerUnavailable,
    SessionLost,
}

public record CollectChanges(Guid CorrelationId, Guid SessionId);

/// <summary>Everything that differs from <paramref name="BaseCommit"/> in the workspace, as files and as a unified diff.</summary>
public record WorkspaceChanges(Guid CorrelationId, Guid SessionId, string BaseCommit, IReadOnlyList<ChangedFile> Files, string Diff);

/// <summary>A changed file. <paramref name="Content"/> is the new UTF-8 text; null when the file was deleted.</summary>
public record ChangedFile(string Path, FileChange Change, string? Content);

public enum FileChange
{
    Added,
    Modified,
    Deleted,
}

/// <summary>Stop the session's servers and remove its workspace.</summary>
public record CloseWorkspace(Guid CorrelationId, Guid SessionId);

public record WorkspaceClosed(Guid CorrelationId, Guid SessionId);

/// <summary>
/// A ToolGateway replica is alive, sent every <paramref name="Interval"/>; with <paramref name="Stopping"/> it is going
/// away. Its silence tells callers that their sessions on it are lost and tells the other replicas that its containers
/// may be swept. It concerns no single work item, so unlike every other message it has no CorrelationId.
/// </summary>
public record GatewayReplicaHeartbeat(string ReplicaId, Uri Address, TimeSpan Interval, bool Stopping);
