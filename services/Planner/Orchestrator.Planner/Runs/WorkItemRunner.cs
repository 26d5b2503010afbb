using MassTransit;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Planner.Agent;
using Orchestrator.Planner.Llm;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.Planner.Runs;

/// <summary>
/// Carries one work item from accepted to proposed, in phases (<see cref="RunPhase"/>): open a workspace; plan with the
/// tools that only read (the plan goes on the issue); make the change with every tool; collect the diff and review it
/// against the issue and the plan (going back to fix what the review finds, PLANNER_REVIEW_ROUNDS times); propose it. The
/// budgets hold over all of it, the run is saved at each step a restart must find, and the workspace is closed however
/// the run ends.
/// </summary>
public sealed class WorkItemRunner(
    ToolGatewayClient gateway,
    IBus bus,
    IChatClient chat,
    LlmRetryPolicy retry,
    Transcript transcript,
    PlannerDbContext db,
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
        run.Model = llm.Value.Model;
        var budget = new RunBudget(run, options.Value, llm.Value.PriceTable.For(llm.Value.Model), clock);
        using var deadline = new CancellationTokenSource(budget.TimeLeft, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await EnterAsync(run, RunPhase.Starting);
            await CloseOrphanAsync(run, item);
            var session = await OpenAsync(run, item, budget, linked.Token);
            try
            {
                linked.Token.ThrowIfCancellationRequested();
                return await WorkAsync(run, item, session, budget, linked.Token);
            }
            finally
            {
                await gateway.CloseWorkspaceAsync(session, CancellationToken.None);
                (run.SessionId, run.ReplicaAddress) = (null, null);
                await db.SaveChangesAsync(CancellationToken.None);
            }
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

    /// <summary>An earlier attempt stopped without closing its workspace (its process died); its replica may still hold it.</summary>
    private async Task CloseOrphanAsync(Run run, WorkItemAccepted item)
    {
        if (run.SessionId is not { } orphan || run.ReplicaAddress is not { } replica)
            return;
        await gateway.CloseWorkspaceAsync(new WorkspaceOpened(item.CorrelationId, orphan, replica, "", "", []), CancellationToken.None);
        await transcript.AddAsync("note", $"Closed workspace {orphan}, left open by attempt {run.Attempts - 1}.");
        (run.SessionId, run.ReplicaAddress) = (null, null);
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>
    /// Opens the run's workspace, asking again when ToolGateway does not answer in time (after an outage its replicas may
    /// have a backlog): the repeated request has the work item's id, so a replica still opening the first joins it, and the
    /// first one, expired, is dropped. It asks while the run's time budget lasts. An opening is never cancelled midway: a
    /// workspace the gateway finishes opening after we stopped waiting would have no one to close it (the gateway closes
    /// those it opens past their request's deadline), so a cancel or a deadline that comes meanwhile takes effect once it
    /// is open. A workspace without a server the run needs counts as lost: the run starts over in another.
    /// </summary>
    private async Task<WorkspaceOpened> OpenAsync(Run run, WorkItemAccepted item, RunBudget budget, CancellationToken cancellationToken)
    {
        var request = new OpenWorkspace(item.CorrelationId, item.CloneUrl, item.BaseBranch, WorkBranch(item), item.Repository);
        WorkspaceOpened session;
        while (true)
        {
            try
            {
                session = await gateway.OpenWorkspaceAsync(request, CancellationToken.None);
                break;
            }
            catch (RequestTimeoutException) when (!cancellationToken.IsCancellationRequested && budget.TimeLeft > TimeSpan.Zero)
            {
                logger.LogWarning("Run {CorrelationId}: ToolGateway did not open the workspace in time; asking again", item.CorrelationId);
                await transcript.AddAsync("note", "ToolGateway did not answer in time (WORKSPACE_REQUEST_TIMEOUT); asking again.", isError: true);
            }
            catch (WorkspaceNotOpenedException e)
            {
                throw new RunFailedException(e.Reason, $"The workspace could not be opened: {e.Message}");
            }
        }
        (run.SessionId, run.ReplicaAddress) = (session.SessionId, session.ReplicaAddress);
        await db.SaveChangesAsync(CancellationToken.None);

        var commit = session.BaseCommit[..Math.Min(12, session.BaseCommit.Length)];
        await transcript.AddAsync("note", $"Workspace {session.SessionId} opened at {commit}, with {session.Tools.Count} tools.");
        foreach (var problem in session.Unavailable ?? [])
        {
            await transcript.AddAsync("note", problem, isError: true);
            await bus.Publish(new WorkItemProgressed(item.CorrelationId, "workspace", $"a tool server is unavailable: {problem}"), CancellationToken.None);
        }
        // A workspace the run cannot work in counts as lost: the next may open whole (a server's start can fail for a while).
        var missing = options.Value.RequiredServerList.Where(s => !session.Tools.Any(t => t.Server == s)).ToList();
        if (session.Tools.Count == 0 || missing.Count > 0)
        {
            await gateway.CloseWorkspaceAsync(session, CancellationToken.None);
            (run.SessionId, run.ReplicaAddress) = (null, null);
            await db.SaveChangesAsync(CancellationToken.None);
            var why = session.Tools.Count == 0 ? "The workspace has no tools to work with."
                : $"The workspace opened without {string.Join(", ", missing)} (PLANNER_REQUIRED_SERVERS).";
            throw new WorkspaceLostException($"{why} {string.Join(" ", session.Unavailable ?? ["ToolGateway offers none."])}".Trim(),
                reason: "tools-unavailable");
        }
        await bus.Publish(new WorkItemProgressed(item.CorrelationId, "workspace", $"opened at {commit}"), CancellationToken.None);
        return session;
    }

    private async Task<RunStatus> WorkAsync(Run run, WorkItemAccepted item, WorkspaceOpened session, RunBudget budget, CancellationToken cancellationToken)
    {
        var id = item.CorrelationId;
        var settings = options.Value;
        var tools = GatewayTool.For(session, session.Tools, gateway, settings.MaxToolResultChars);
        var agent = new AgentLoop(chat, retry, budget, transcript, settings, tools);

        await EnterAsync(run, RunPhase.Planning);
        var readOnly = tools.Where(t => t.Descriptor.ReadOnly).ToList();
        List<ChatMessage> conversation = [];
        await agent.SayAsync(conversation, ChatRole.System, Prompts.Planning(item, session, readOnly.Count > 0));
        await agent.SayAsync(conversation, ChatRole.User, Prompts.Issue(item));
        var plan = await agent.AnswerAsAsync(conversation, readOnly, Plan.Parse, "plan-invalid", cancellationToken);
        await bus.Publish(new WorkItemPlanned(id, plan.Summary, plan.Steps), cancellationToken);
        logger.LogInformation("Work item {CorrelationId}: planned {Steps} step(s)", id, plan.Steps.Count);

        await EnterAsync(run, RunPhase.Executing);
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
            await transcript.AddAsync("note", $"{changes.Files.Count} file(s) changed: {string.Join(", ", changes.Files.Select(f => f.Path))}.");

            await EnterAsync(run, RunPhase.Verifying);
            var verification = await VerifyAsync(id, session, cancellationToken);
            if (verification.Status == VerificationStatus.Failed)
            {
                if (round == settings.ReviewRounds)
                {
                    throw new RunFailedException("verification-failed",
                        $"Tests still fail that passed on the base commit after {round} round(s) of fixes (PLANNER_REVIEW_ROUNDS): {string.Join(", ", verification.NewlyFailing.Take(10))}");
                }
                await EnterAsync(run, RunPhase.Executing);
                await agent.SayAsync(conversation, ChatRole.User, Prompts.FixTests(verification));
                summary = await agent.AnswerAsync(conversation, tools, cancellationToken);
                continue;
            }

            await EnterAsync(run, RunPhase.Reviewing);
            await bus.Publish(new WorkItemProgressed(id, "review", $"{changes.Files.Count} file(s) changed; reviewing the diff"), cancellationToken);
            var review = await ReviewAsync(agent, item, plan, changes, verification, cancellationToken);
            if (review.Approved)
            {
                await ProposeAsync(item, session, changes, review, summary, verification, budget, cancellationToken);
                return RunStatus.Proposed;
            }

            var problems = (review.Problems ?? []).Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
            if (round == settings.ReviewRounds)
            {
                throw new RunFailedException("review-rejected",
                    $"The self-review still found problems after {round} round(s) of fixes (PLANNER_REVIEW_ROUNDS): {string.Join("; ", problems)}");
            }
            await EnterAsync(run, RunPhase.Executing);
            await agent.SayAsync(conversation, ChatRole.User, Prompts.Fix(problems));
            summary = await agent.AnswerAsync(conversation, tools, cancellationToken);
        }
    }

    /// <summary>The repository's tests on the change against the base commit, recorded on the timeline and the transcript.</summary>
    private async Task<Verification> VerifyAsync(Guid id, WorkspaceOpened session, CancellationToken cancellationToken)
    {
        if (session.Guidance?.TestCommand is not null)
            await bus.Publish(new WorkItemProgressed(id, "verify", "running the tests on the change and on the base commit"), cancellationToken);
        Verification verification;
        try
        {
            verification = await gateway.VerifyAsync(session, cancellationToken);
        }
        catch (SessionLostException e)
        {
            throw new WorkspaceLostException("The ToolGateway replica holding the workspace went away during verification.", e);
        }
        var said = Prompts.Verified(verification);
        await transcript.AddAsync("note", said, isError: verification.Status == VerificationStatus.Failed);
        if (verification.Status != VerificationStatus.NotConfigured)
            await bus.Publish(new WorkItemProgressed(id, "verify", verification.Status switch
            {
                VerificationStatus.Passed => $"tests pass: {verification.After!.Passed} passed, {verification.After.Failed} failed ({verification.StillFailing.Count} already failing on the base)",
                VerificationStatus.Failed => $"{verification.NewlyFailing.Count} test(s) fail that passed on the base commit",
                _ => "the change could not be verified",
            }), cancellationToken);
        return verification;
    }

    /// <summary>A separate conversation, without tools, over the issue, the plan and the diff.</summary>
    private static async Task<Review> ReviewAsync(AgentLoop agent, WorkItemAccepted item, Plan plan, WorkspaceChanges changes, Verification verification,
        CancellationToken cancellationToken)
    {
        List<ChatMessage> reviewing = [];
        await agent.SayAsync(reviewing, ChatRole.System, Prompts.Reviewing);
        await agent.SayAsync(reviewing, ChatRole.User, Prompts.Review(item, plan, changes.Diff, MaxReviewDiffChars, verification));
        return await agent.AnswerAsAsync(reviewing, [], Review.Parse, "review-invalid", cancellationToken);
    }

    private async Task ProposeAsync(WorkItemAccepted item, WorkspaceOpened session, WorkspaceChanges changes, Review review, string summary,
        Verification verification, RunBudget budget, CancellationToken cancellationToken)
    {
        var title = string.IsNullOrWhiteSpace(review.PullRequestTitle) ? item.Title : review.PullRequestTitle.Trim();
        await bus.Publish(new ChangesProposed(
            item.CorrelationId, item.Repository, item.IssueNumber, item.BaseBranch, changes.BaseCommit, WorkBranch(item), changes.Files,
            CommitMessage: review.CommitMessage!.Trim(), PullRequestTitle: title,
            PullRequestBody: (string.IsNullOrWhiteSpace(review.PullRequestBody) ? Shorten(summary) : review.PullRequestBody.Trim())
                + VerificationReport.Markdown(verification),
            budget.Usage, changes.Diff), cancellationToken);
        await transcript.AddAsync("note", $"Proposed {changes.Files.Count} changed file(s) as \"{title}\".");
        logger.LogInformation("Work item {CorrelationId}: proposed {Count} changed file(s) from workspace {SessionId}",
            item.CorrelationId, changes.Files.Count, session.SessionId);
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

    /// <summary>Moves the run to <paramref name="phase"/> and saves it: a Planner that restarts finds where it was.</summary>
    private async Task EnterAsync(Run run, RunPhase phase)
    {
        run.Phase = phase;
        run.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private static string WorkBranch(WorkItemAccepted item) => WorkBranches.For(item.CorrelationId, item.IssueNumber);

    private static string Shorten(string text) => text.Length <= 1_000 ? text : text[..1_000] + "…";
}
