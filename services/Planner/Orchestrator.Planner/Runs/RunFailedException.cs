namespace Orchestrator.Planner.Runs;

/// <summary>
/// A run ends without a proposal for a reason worth telling the issue: it becomes <c>WorkItemFailed</c> with
/// <see cref="Reason"/> (short, machine-readable) and <see cref="Exception.Message"/> as the detail.
/// </summary>
public class RunFailedException(string reason, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public string Reason { get; } = reason;
}
