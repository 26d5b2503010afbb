namespace Orchestrator.Contracts;

/// <summary>Open a workspace session: clone <paramref name="CloneUrl"/> at <paramref name="BaseBranch"/> and create <paramref name="WorkBranch"/>.</summary>
/// <param name="Repository">"owner/name": the one repository the session's servers may reach (the GitHub server's calls are held to it).</param>
public record OpenWorkspace(Guid CorrelationId, string CloneUrl, string BaseBranch, string WorkBranch, string? Repository = null);

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
    IReadOnlyList<string>? Unavailable = null,
    RepositoryGuidance? Guidance = null);

/// <summary>
/// What the repository says about working in it, read by the gateway from the base commit (never from a branch the agent
/// or a contributor can change): its instruction files, the sandbox its commands run in, and its test command.
/// </summary>
/// <param name="Instructions">AGENTS.md and .github/copilot-instructions.md as they are on the base commit (cut past their limit).</param>
/// <param name="Environment">The sandbox, for the agent: where its image came from, and what of the repository's description is not supported.</param>
/// <param name="TestCommand">The command <c>run_tests</c> runs and verification compares, or null when none is configured.</param>
public record RepositoryGuidance(
    IReadOnlyList<RepositoryFile> Instructions,
    string? Environment,
    string? TestCommand);

/// <summary>A file of the repository, as the base commit has it.</summary>
public record RepositoryFile(string Path, string Content);

/// <summary>
/// Run the repository's test command on the workspace as it is now, and on the base commit, each in a fresh sandbox, and
/// compare them.
/// </summary>
public record VerifyWorkspace(Guid CorrelationId, Guid SessionId);

public record WorkspaceVerified(Guid CorrelationId, Guid SessionId, Verification Verification);

public enum VerificationStatus
{
    /// <summary>No test command is configured: nothing was verified.</summary>
    NotConfigured,

    /// <summary>No test fails now that passed on the base commit.</summary>
    Passed,

    /// <summary>At least one test fails now that passed on the base commit (or the command fails now and passed there).</summary>
    Failed,

    /// <summary>The tests could not be run (no sandbox, the setup or image failed): <see cref="Verification.Detail"/> says why.</summary>
    Unavailable,
}

/// <summary>
/// The test command's results on the changed workspace (<paramref name="After"/>) against the base commit's
/// (<paramref name="Before"/>). Tests are named from JUnit XML or TRX results when the command writes them; otherwise the
/// command counts as one test, passed when it exits with 0. The name lists are cut at a limit.
/// </summary>
public record Verification(
    VerificationStatus Status,
    string? Command,
    TestCounts? Before,
    TestCounts? After,
    IReadOnlyList<string> NewlyFailing,
    IReadOnlyList<string> NewlyPassing,
    IReadOnlyList<string> StillFailing,
    TimeSpan Duration,
    string Detail);

/// <summary>How a test run ended. <paramref name="FromResults"/>: counted from result files, not from the exit code.</summary>
public record TestCounts(int Passed, int Failed, int Skipped, int ExitCode, TimeSpan Duration, bool FromResults);

/// <summary>
/// The workspace could not be opened: its repository could not be cloned (<paramref name="Reason"/> <c>clone-failed</c>:
/// unreachable, too slow, too large, or refused). <paramref name="Detail"/> says which, naming the setting at fault.
/// </summary>
public record WorkspaceNotOpened(Guid CorrelationId, string Reason, string Detail);

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

/// <summary>
/// Everything that differs from <paramref name="BaseCommit"/> in the workspace, as git records it (file modes, link
/// targets, bytes), and as a unified diff for reading (cut, with a note, past the change's byte limit).
/// </summary>
public record WorkspaceChanges(Guid CorrelationId, Guid SessionId, string BaseCommit, IReadOnlyList<ChangedFile> Files, string Diff);

/// <summary>
/// The workspace's changes cannot be proposed: <paramref name="Reason"/> is short and machine-readable
/// (<c>changes-too-large</c>), <paramref name="Detail"/> a sentence naming the limit and its setting.
/// </summary>
public record WorkspaceChangesRefused(Guid CorrelationId, Guid SessionId, string Reason, string Detail);

/// <summary>
/// A changed file, as git stores it. <paramref name="Content"/> is the new content when it is UTF-8 text (for a
/// symbolic link, the link's target; for a submodule, the commit it points at); <paramref name="Data"/> holds the bytes
/// instead when they are not text (base64 in the message). Both are null for a deleted file.
/// </summary>
/// <param name="Mode">The file's git mode after the change (before it, for a deleted file).</param>
public record ChangedFile(string Path, FileChange Change, string? Content, GitFileMode Mode = GitFileMode.Regular, byte[]? Data = null);

public enum FileChange
{
    Added,
    Modified,
    Deleted,
}

/// <summary>What a path is in git: a file (100644), an executable file (100755), a symbolic link (120000), a submodule (160000).</summary>
public enum GitFileMode
{
    Regular,
    Executable,
    Symlink,
    Submodule,
}

/// <summary>Stop the session's servers and remove its workspace.</summary>
public record CloseWorkspace(Guid CorrelationId, Guid SessionId);

public record WorkspaceClosed(Guid CorrelationId, Guid SessionId);

/// <summary>
/// A ToolGateway replica is alive, sent every <paramref name="Interval"/>; with <paramref name="Stopping"/> it is going
/// away. Its silence tells callers that their sessions on it are lost and tells the other replicas that its containers
/// may be swept. It concerns no single work item, so unlike every other message it has no CorrelationId.
/// </summary>
/// <param name="Instance">The replica's process (new at every start, even under the same id): its containers carry it.</param>
public record GatewayReplicaHeartbeat(string ReplicaId, Uri Address, TimeSpan Interval, bool Stopping, string? Instance = null);
