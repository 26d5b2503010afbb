using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Processes;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// Verification before the pull request: the test command runs in a fresh sandbox on a copy of the changed workspace
/// (so nothing the tests write becomes part of the change), and in another on the base commit (once per base commit,
/// image, command and setup: the result is kept), and the two are compared test by test. A test that already failed on
/// the base is "still failing", not blamed on the change.
/// </summary>
public sealed class Verifier(
    SandboxProvisioner provisioner, IServerLauncher launcher, IOptions<SandboxOptions> options, IOptions<ToolGatewayOptions> gateway,
    ILogger<Verifier> logger)
{
    private const int MaxNames = 50;
    private const int MaxCachedBaseRuns = 64;
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
        var lazy = _baseRuns.GetOrAdd(key, _ => new Lazy<Task<TestRun>>(() =>
            RunFreshAsync(docker, session, environment, tests, copyFrom: null, CancellationToken.None)));
        try
        {
            var afterTask = RunFreshAsync(docker, session, environment, tests, copyFrom: session.Directory, cancellationToken);
            var (before, after) = (await lazy.Value.WaitAsync(cancellationToken), await afterTask);
            return Compare(tests, before, after, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever stopped the tests (the engine, a copy, a checkout) is the answer: the Planner says it could not verify.
            if (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
                _baseRuns.TryRemove(new KeyValuePair<string, Lazy<Task<TestRun>>>(key, lazy));
            logger.LogWarning("Verification of workspace {SessionId} could not run: {Error}", session.Id, e.Message);
            return Unavailable(tests.Command, $"The tests could not be run: {e.Message}", started);
        }
    }

    private static Verification Compare(TestSettings tests, TestRun before, TestRun after, TimeSpan duration)
    {
        var (was, now) = (before.Outcomes, after.Outcomes);
        var newlyFailing = now.Where(t => t.Value == TestOutcome.Failed && was.GetValueOrDefault(t.Key, TestOutcome.Passed) != TestOutcome.Failed).Select(t => t.Key).ToList();
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
    /// The test command in a new sandbox, set up as the workspace's was, on a copy of <paramref name="copyFrom"/> (the
    /// workspace) or on the base commit checked out from the gateway's own repository. The sandbox and the copy are removed after.
    /// </summary>
    private async Task<TestRun> RunFreshAsync(DockerLauncher docker, WorkspaceSession session, SandboxEnvironment environment, TestSettings tests,
        string? copyFrom, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetFullPath(gateway.Value.WorkspacesPath), $"verify-{Guid.NewGuid():N}");
        var directory = Path.Combine(folder, "workspace");
        Directory.CreateDirectory(folder);
        try
        {
            if (copyFrom is not null)
            {
                // The sandbox can write what it likes into the workspace: a copy is made only of what a clone may hold.
                if (Folders.Size(copyFrom) > gateway.Value.CloneMaxBytes)
                    throw new SandboxException($"The workspace holds more than {gateway.Value.CloneMaxBytes:N0} bytes (CLONE_MAX_BYTES): too large to copy for verification");
                // cp copies links as links and never follows one out of the workspace.
                var copy = await ChildProcess.RunAsync("cp", ["-a", "--no-dereference", "--", copyFrom, directory],
                    new Dictionary<string, string?> { ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") }, cancellationToken);
                if (copy.ExitCode != 0)
                    throw new SandboxException($"The workspace could not be copied for verification: {copy.Error}");
            }
            else
            {
                Directory.CreateDirectory(directory);
                var git = new Git(session.GitDirectory, directory, Path.Combine(folder, "index"), sealedOff: true);
                await git.RunAsync(["read-tree", session.BaseCommit], cancellationToken);
                await git.RunAsync(["checkout-index", "--all", "--force"], cancellationToken);
            }
            await launcher.PrepareWorkspaceAsync(directory, cancellationToken);
            var (sandbox, notes) = await provisioner.StartAsync(environment, docker.HostPathOf(directory), docker.ContainerUser,
                docker.LabelsFor(session.Id, "sandbox-verify"), cancellationToken);
            await using (sandbox)
            {
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
