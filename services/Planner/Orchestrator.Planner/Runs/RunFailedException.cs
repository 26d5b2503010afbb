namespace Orchestrator.Planner.Runs;

/// <summary>
/// A run ends without a proposal for a reason worth telling the issue: it becomes <c>WorkItemFailed</c> with
/// <see cref="Reason"/> (short, machine-readable) and <see cref="Exception.Message"/> as the detail.
/// </summary>
public class RunFailedException(string reason, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// The run's workspace is no use: the ToolGateway replica holding it is gone (and the workspace with it), or it opened
/// without a server the run needs. The run starts over in a new workspace, up to PLANNER_MAX_ATTEMPTS attempts; after
/// that it fails with <paramref name="reason"/>.
/// </summary>
public sealed class WorkspaceLostException(string detail, Exception? inner = null, string reason = "workspace-lost")
    : RunFailedException(reason, detail, inner);
