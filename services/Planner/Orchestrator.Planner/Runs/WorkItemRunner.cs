using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.Planner.Runs;

/// <summary>
/// Carries one work item from accepted to proposed. This is the walking skeleton's fixed script (plan, open a workspace,
/// write one file through the filesystem tool, collect, propose); the LLM agent loop replaces the middle of it.
/// </summary>
public sealed class WorkItemRunner(ToolGatewayClient gateway, IBus bus, ILogger<WorkItemRunner> logger)
{
    /// <summary>Runs the work item to its end: <see cref="RunStatus.Proposed"/>, or <see cref="RunStatus.Failed"/> after publishing why.</summary>
    public async Task<RunStatus> RunAsync(WorkItemAccepted item, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var id = item.CorrelationId;
        var workBranch = item.IssueNumber is { } n ? $"orchestrator/issue-{n}" : $"orchestrator/{id:N}";
        var file = item.IssueNumber is { } number ? $"WORK_ITEM_{number}.md" : $"WORK_ITEM_{id:N}.md";

        await bus.Publish(new WorkItemPlanned(id, $"Record the work item in {file}",
            [$"Open a workspace on {item.BaseBranch}", $"Write {file}", "Propose the change"]), cancellationToken);

        var session = await gateway.OpenWorkspaceAsync(new OpenWorkspace(id, item.CloneUrl, item.BaseBranch, workBranch), cancellationToken);
        try
        {
            await bus.Publish(new WorkItemProgressed(id, "workspace", $"opened at {session.BaseCommit[..Math.Min(12, session.BaseCommit.Length)]}"), cancellationToken);

            var arguments = JsonSerializer.Serialize(new { path = $"{session.WorkspaceRoot}/{file}", content = $"# {item.Title}\n\n{item.Body}\n" });
            var (completed, failed) = await gateway.CallToolAsync(session, "filesystem", "write_file", arguments, cancellationToken);
            if (failed is not null || completed!.IsError)
            {
                var reason = failed is not null ? $"{failed.Reason}: {failed.Message}" : string.Join(" ", completed!.Content.Select(c => c.Text));
                await bus.Publish(new WorkItemFailed(id, "tool-failed", reason), cancellationToken);
                return RunStatus.Failed;
            }
            await bus.Publish(new WorkItemProgressed(id, "tool", $"filesystem.write_file {file}"), cancellationToken);

            var changes = await gateway.CollectChangesAsync(session, cancellationToken);
            await bus.Publish(new ChangesProposed(
                id, item.Repository, item.IssueNumber, item.BaseBranch, changes.BaseCommit, workBranch, changes.Files,
                CommitMessage: item.Title, PullRequestTitle: item.Title, PullRequestBody: item.Title,
                new RunUsage(0, 1, 0, 0, 0m, Stopwatch.GetElapsedTime(started)), changes.Diff), cancellationToken);
            logger.LogInformation("Work item {CorrelationId}: proposed {Count} changed file(s)", id, changes.Files.Count);
            return RunStatus.Proposed;
        }
        finally
        {
            await gateway.CloseWorkspaceAsync(session, CancellationToken.None);
        }
    }
}
