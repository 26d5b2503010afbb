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
/// The ToolGateway replica holding the run's workspace is gone, and the workspace with it. The run starts over in a new
/// workspace, up to PLANNER_MAX_ATTEMPTS attempts; after that it fails with <c>workspace-lost</c>.
/// </summary>
public sealed class WorkspaceLostException(string detail, Exception? inner = null) : RunFailedException("workspace-lost", detail, inner);
