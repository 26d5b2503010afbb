using MassTransit;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Planner.Agent;
using Orchestrator.Planner.Llm;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.Planner.Runs;

/// <summary>
/// Carries one work item from accepted to proposed, in phases: open a workspace; plan with the tools that only read
/// (the plan goes on the issue); make the change with every tool; collect the diff and review it against the issue and
/// the plan (going back to fix what the review finds, PLANNER_REVIEW_ROUNDS times); propose it. The budgets hold over all
/// of it, and the workspace is closed however the run ends.
/// </summary>
public sealed class WorkItemRunner(
    ToolGatewayClient gateway,
    IBus bus,
    IChatClient chat,
    LlmRetryPolicy retry,
    Transcript transcript,
    IOptions<PlannerOptions> options,
    IOptions<LlmOptions> llm,
    TimeProvider clock,
    ILogger<WorkItemRunner> logger)
{
    // The reviewer reads the diff in one message; past this it reads the start (and is told).
    private const int MaxReviewDiffChars = 60_000;

    /// <summary>
    /// Runs the work item to <see cref="RunStatus.Proposed"/> or <see cref="RunStatus.Completed"/> (nothing to change).
    /// Throws <see cref="RunFailedException"/> when it cannot, a budget included.
    /// </summary>
    public async Task<RunStatus> RunAsync(Run run, WorkItemAccepted item, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        run.Model = llm.Value.Model;
        var budget = new RunBudget(run, settings, llm.Value.PriceTable.For(llm.Value.Model), clock);
        using var deadline = new CancellationTokenSource(budget.TimeLeft, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await RunPhasesAsync(run, item, budget, linked.Token);
        }
        catch (Exception e) when (e is not RunFailedException && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw budget.TimeExceeded();
        }
        finally
        {
            budget.UpdateDuration();
        }
    }

    private async Task<RunStatus> RunPhasesAsync(Run run, WorkItemAccepted item, RunBudget budget, CancellationToken cancellationToken)
    {
        var id = item.CorrelationId;
        var settings = options.Value;
        var workBranch = item.IssueNumber is { } n ? $"orchestrator/issue-{n}" : $"orchestrator/{id:N}";

        run.Phase = "starting";
        if (run.SessionId is { } orphan && run.ReplicaAddress is { } replica)
        {
            // An earlier attempt stopped without closing its workspace (the process died); its replica may still hold it.
            await gateway.CloseWorkspaceAsync(new WorkspaceOpened(id, orphan, replica, "", "", []), CancellationToken.None);
            await transcript.AddAsync("note", $"Closed workspace {orphan}, left open by attempt {run.Attempts - 1}.");
        }
        // Not cancelled midway: a workspace the gateway finishes opening after we stopped waiting would have no one to
        // close it. A cancel or a deadline that comes meanwhile takes effect as soon as it is open (clone and start).
        var session = await gateway.OpenWorkspaceAsync(new OpenWorkspace(id, item.CloneUrl, item.BaseBranch, workBranch, item.Repository), CancellationToken.None);
        run.SessionId = session.SessionId;
        run.ReplicaAddress = session.ReplicaAddress;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var commit = session.BaseCommit[..Math.Min(12, session.BaseCommit.Length)];
            await transcript.AddAsync("note", $"Workspace {session.SessionId} opened at {commit}, with {session.Tools.Count} tools.");
            foreach (var problem in session.Unavailable ?? [])
                await transcript.AddAsync("note", problem, isError: true);
            if (session.Tools.Count == 0)
            {
                throw new RunFailedException("tools-unavailable",
                    $"The workspace has no tools to work with. {string.Join(" ", session.Unavailable ?? ["ToolGateway offers none."])}");
            }
            await bus.Publish(new WorkItemProgressed(id, "workspace", $"opened at {commit}"), cancellationToken);

            var tools = GatewayTool.For(session, session.Tools, gateway, settings.MaxToolResultChars);
            var readOnly = tools.Where(t => t.Descriptor.ReadOnly).ToList();
            var agent = new AgentLoop(chat, retry, budget, transcript, settings, tools);

            run.Phase = "planning";
            List<ChatMessage> conversation = [];
            await agent.SayAsync(conversation, ChatRole.System, Prompts.Planning(item, session, readOnly.Count > 0));
            await agent.SayAsync(conversation, ChatRole.User, Prompts.Issue(item));
            var plan = await agent.AnswerAsAsync(conversation, readOnly, Plan.Parse, "plan-invalid", cancellationToken);
            await bus.Publish(new WorkItemPlanned(id, plan.Summary, plan.Steps), cancellationToken);
            logger.LogInformation("Work item {CorrelationId}: planned {Steps} step(s)", id, plan.Steps.Count);

            run.Phase = "executing";
            await agent.SayAsync(conversation, ChatRole.User, Prompts.Execute);
            var summary = await agent.AnswerAsync(conversation, tools, cancellationToken);
            for (var round = 0; ; round++)
            {
                var changes = await CollectAsync(session, cancellationToken);
                if (changes.Files.Count == 0)
                {
                    await transcript.AddAsync("note", "The workspace has no changes: nothing to propose.");
                    await bus.Publish(new WorkItemCompleted(id, $"No change was needed. {Shorten(summary)}".Trim(), budget.Usage), cancellationToken);
                    return RunStatus.Completed;
                }

                run.Phase = "reviewing";
                await transcript.AddAsync("note", $"{changes.Files.Count} file(s) changed: {string.Join(", ", changes.Files.Select(f => f.Path))}.");
                await bus.Publish(new WorkItemProgressed(id, "review", $"{changes.Files.Count} file(s) changed; reviewing the diff"), cancellationToken);
                List<ChatMessage> reviewing = [];
                await agent.SayAsync(reviewing, ChatRole.System, Prompts.Reviewing);
                await agent.SayAsync(reviewing, ChatRole.User, Prompts.Review(item, plan, changes.Diff, MaxReviewDiffChars));
                var review = await agent.AnswerAsAsync(reviewing, [], Review.Parse, "review-invalid", cancellationToken);
                if (review.Approved)
                {
                    var title = string.IsNullOrWhiteSpace(review.PullRequestTitle) ? item.Title : review.PullRequestTitle.Trim();
                    await bus.Publish(new ChangesProposed(
                        id, item.Repository, item.IssueNumber, item.BaseBranch, changes.BaseCommit, workBranch, changes.Files,
                        CommitMessage: review.CommitMessage!.Trim(), PullRequestTitle: title,
                        PullRequestBody: string.IsNullOrWhiteSpace(review.PullRequestBody) ? Shorten(summary) : review.PullRequestBody.Trim(),
                        budget.Usage, changes.Diff), cancellationToken);
                    await transcript.AddAsync("note", $"Proposed {changes.Files.Count} changed file(s) as \"{title}\".");
                    logger.LogInformation("Work item {CorrelationId}: proposed {Count} changed file(s)", id, changes.Files.Count);
                    return RunStatus.Proposed;
                }

                var problems = (review.Problems ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
                if (round == settings.ReviewRounds)
                {
                    throw new RunFailedException("review-rejected",
                        $"The self-review still found problems after {round} round(s) of fixes (PLANNER_REVIEW_ROUNDS): {string.Join("; ", problems)}");
                }
                run.Phase = "executing";
                await agent.SayAsync(conversation, ChatRole.User, Prompts.Fix(problems));
                summary = await agent.AnswerAsync(conversation, tools, cancellationToken);
            }
        }
        finally
        {
            await gateway.CloseWorkspaceAsync(session, CancellationToken.None);
            run.SessionId = null;
            run.ReplicaAddress = null;
        }
    }

    private async Task<WorkspaceChanges> CollectAsync(WorkspaceOpened session, CancellationToken cancellationToken)
    {
        try
        {
            return await gateway.CollectChangesAsync(session, cancellationToken);
        }
        catch (SessionLostException e)
        {
            throw new WorkspaceLostException("The ToolGateway replica holding the workspace went away before its changes were collected.", e);
        }
        catch (ChangesRefusedException e)
        {
            throw new RunFailedException(e.Reason, $"The workspace's changes cannot be proposed: {e.Message}");
        }
    }

    private static string Shorten(string text) => text.Length <= 1_000 ? text : text[..1_000] + "…";
}
