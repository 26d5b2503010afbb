using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// Verification before the pull request: the test command runs in a fresh sandbox on the change as git collects it from
/// the workspace (what would be published, checked out by the gateway's git from its own repository: nothing is copied
/// from the workspace, whose sandbox may still be running processes), and in another on the base commit (once per base
/// commit, image, command and setup: the result is kept), and the two are compared test by test. A test that already
/// failed on the base is "still failing", not blamed on the change; one that passed there and is not run any more fails.
/// The change's side is set up without a network, since its lifecycle commands run what the agent may have changed.
/// </summary>
public sealed class Verifier(
    SandboxProvisioner provisioner, IServerLauncher launcher, ChangeCollector collector, IOptions<SandboxOptions> options,
    IOptions<ToolGatewayOptions> gateway, ILogger<Verifier> logger)
{
    private const int MaxNames = 50;
    // Each kept run holds at most 20,000 names of 300 characters.
    private const int MaxCachedBaseRuns = 16;
    private readonly ConcurrentDictionary<string, Lazy<Task<TestRun>>> _baseRuns = new();

    public async Task<Verification> VerifyAsync(WorkspaceSession session, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (session.Sandbox is not { } sandbox || launcher is not DockerLauncher docker)
            return Unavailable(null, "The catalog has no sandbox server (or MCP_LAUNCHER is not Docker): nothing could be verified.", started);
        SandboxEnvironment environment;
        try
        {
            environment = await sandbox.Environment.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Unavailable(null, $"The sandbox is not available: {e.Message}", started);
        }
        if (environment.Tests is not { } tests)
            return new Verification(VerificationStatus.NotConfigured, null, null, null, [], [], [], TimeSpan.Zero,
                $"No test command is configured (test.command in {TestSettings.FileName} on the base branch, or SANDBOX_TEST_COMMAND): nothing was verified.");

        var key = string.Join('\n', session.Repository, session.BaseCommit, environment.ImageId, tests.Command, string.Join('\t', tests.Results),
            string.Join('\t', environment.Setup.Select(s => s.ToString())), string.Join('\t', environment.Variables.Select(v => $"{v.Key}={v.Value}")));
        if (_baseRuns.Count > MaxCachedBaseRuns)
            _baseRuns.Clear();
        // What is verified is what would be published: the change as git collects it from the workspace, checked out by the
        // gateway's git from its own repository. Nothing is copied from the workspace, where the sandbox's processes may
        // still be running and swapping folders for links.
        CollectedChanges changes;
        try
        {
            changes = await collector.CollectAsync(session, cancellationToken);
        }
        catch (GitException e)
        {
            return Unavailable(tests.Command, $"The change cannot be verified: {e.Message}", started);
        }
        if (changes.Refusal is not null || changes.Tree is null)
            return Unavailable(tests.Command, $"The change cannot be verified: {changes.Refusal}", started);
        var lazy = _baseRuns.GetOrAdd(key, _ => new Lazy<Task<TestRun>>(() =>
            RunFreshAsync(docker, session, environment, tests, session.BaseCommit, setupNetwork: true, CancellationToken.None)));
        try
        {
            // The change's side sets up without a network: its lifecycle commands run what the agent may have changed.
            var afterTask = RunFreshAsync(docker, session, environment, tests, changes.Tree, setupNetwork: false, cancellationToken);
            var (before, after) = (await lazy.Value.WaitAsync(cancellationToken), await afterTask);
            return Compare(tests, before, after, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever stopped the tests (the engine, the checkout, the setup) is the answer: the Planner says it could not verify.
            if (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
                _baseRuns.TryRemove(new KeyValuePair<string, Lazy<Task<TestRun>>>(key, lazy));
            logger.LogWarning("Verification of workspace {SessionId} could not run: {Error}", session.Id, e.Message);
            return Unavailable(tests.Command, $"The tests could not be run: {e.Message}", started);
        }
    }

    private static Verification Compare(TestSettings tests, TestRun before, TestRun after, TimeSpan duration)
    {
        var (was, now) = (before.Outcomes, after.Outcomes);
        // A test that passed on the base and is not run any more counts as failing: deleting a test does not make it pass.
        var newlyFailing = now.Where(t => t.Value == TestOutcome.Failed && was.GetValueOrDefault(t.Key, TestOutcome.Passed) != TestOutcome.Failed).Select(t => t.Key)
            .Concat(was.Where(t => t.Value == TestOutcome.Passed && !now.ContainsKey(t.Key)).Select(t => $"{t.Key} (no longer run)")).ToList();
        var stillFailing = now.Where(t => t.Value == TestOutcome.Failed && was.GetValueOrDefault(t.Key) == TestOutcome.Failed && was.ContainsKey(t.Key)).Select(t => t.Key).ToList();
        var newlyPassing = now.Where(t => t.Value == TestOutcome.Passed && was.TryGetValue(t.Key, out var o) && o == TestOutcome.Failed).Select(t => t.Key).ToList();
        var detail = newlyFailing.Count == 0
            ? $"No test that passed on the base commit fails now ({after.Counts.Passed} passed, {after.Counts.Failed} failed)."
            : $"{newlyFailing.Count} test(s) fail now that did not on the base commit: {string.Join(", ", newlyFailing.Take(10))}\n{Tail(after.Result.Describe(tests.Timeout), 3_000)}";
        return new Verification(newlyFailing.Count == 0 ? VerificationStatus.Passed : VerificationStatus.Failed, tests.Command,
            before.Counts, after.Counts, [.. newlyFailing.Take(MaxNames)], [.. newlyPassing.Take(MaxNames)], [.. stillFailing.Take(MaxNames)],
            duration, detail);
    }

    /// <summary>
    /// The test command in a new sandbox, set up as the workspace's was, on <paramref name="treeish"/> (the base commit, or
    /// the change's tree) checked out by the gateway's sealed git from its own repository into a new folder. The sandbox
    /// and the folder are removed after.
    /// </summary>
    private async Task<TestRun> RunFreshAsync(DockerLauncher docker, WorkspaceSession session, SandboxEnvironment environment, TestSettings tests,
        string treeish, bool setupNetwork, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetFullPath(gateway.Value.WorkspacesPath), $"verify-{Guid.NewGuid():N}");
        var directory = Path.Combine(folder, "workspace");
        Directory.CreateDirectory(directory);
        try
        {
            // Whose it is, as for a workspace: what a dead replica leaves is swept by the others.
            var owner = Path.Combine(session.Folder, WorkspaceSession.OwnerFileName);
            if (File.Exists(owner))
                File.Copy(owner, Path.Combine(folder, WorkspaceSession.OwnerFileName));
            var git = new Git(session.GitDirectory, directory, Path.Combine(folder, "index"), sealedOff: true);
            await git.RunAsync(["read-tree", treeish], cancellationToken);
            await git.RunAsync(["checkout-index", "--all", "--force"], cancellationToken);
            await launcher.PrepareWorkspaceAsync(directory, cancellationToken);
            var (sandbox, notes) = await provisioner.StartAsync(environment, docker.HostPathOf(directory), docker.ContainerUser,
                docker.LabelsFor(session.Id, "sandbox-verify"), cancellationToken, setupNetwork);
            await using (sandbox)
            {
                if (notes.Count > 0 && !setupNetwork)
                    throw new SandboxException($"The change's setup failed (it runs without a network): {notes[0].Split('\n')[0]}");
                foreach (var note in notes)
                    logger.LogInformation("Verification sandbox of {SessionId}: {Note}", session.Id, note);
                return await TestRun.RunAsync(sandbox, tests, gateway.Value.ContainerWorkspacePath, options.Value.OutputBytes, cancellationToken);
            }
        }
        finally
        {
            Folders.Delete(folder, logger);
        }
    }

    private static Verification Unavailable(string? command, string detail, long started) =>
        new(VerificationStatus.Unavailable, command, null, null, [], [], [], Stopwatch.GetElapsedTime(started), detail);

    private static string Tail(string text, int chars) => text.Length <= chars ? text : "…" + text[^chars..];
}
