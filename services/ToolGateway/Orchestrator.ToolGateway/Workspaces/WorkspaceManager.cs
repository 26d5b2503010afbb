using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Replicas;
using Orchestrator.ToolGateway.Sandboxes;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>
/// The workspace sessions this replica holds: clone (bounded in time, speed and size), servers, changes, and cleanup.
/// An opening is abandoned when every request waiting for it has given up, and a session nobody has used for
/// <see cref="ToolGatewayOptions.WorkspaceIdleTtl"/> is closed (<see cref="WorkspaceJanitor"/>).
/// </summary>
public sealed class WorkspaceManager(
    IOptions<ToolGatewayOptions> options, IOptions<RepositoryAllowList> repositories, IServerLauncher launcher, McpServerFactory servers,
    ChangeCollector collector, SandboxProvisioner sandboxes, Replica replica, TimeProvider time, ILogger<WorkspaceManager> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, WorkspaceSession> _sessions = new();
    private readonly ConcurrentDictionary<Guid, Opening> _opening = new();

    public WorkspaceSession? Find(Guid sessionId)
    {
        var session = _sessions.GetValueOrDefault(sessionId);
        session?.Touch(time.GetUtcNow());
        return session;
    }

    public IReadOnlyCollection<WorkspaceSession> Sessions => [.. _sessions.Values];

    /// <summary>
    /// Opens the work item's session, or returns the one it has: a redelivered or repeated OpenWorkspace, even one that
    /// arrives while the first is still cloning, gets the same session. The opening goes on while any of its requesters
    /// still waits (until the latest <paramref name="deadline"/>), and is abandoned, its folder removed, when none does.
    /// </summary>
    public async Task<WorkspaceSession> OpenAsync(OpenWorkspace request, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            var existing = _sessions.Values.FirstOrDefault(s => s.CorrelationId == request.CorrelationId);
            if (existing is not null)
            {
                existing.Touch(time.GetUtcNow());
                return existing;
            }
            var opening = _opening.GetOrAdd(request.CorrelationId, _ => new Opening(this, request));
            opening.WaitUntil(deadline, time);
            try
            {
                return await opening.Opened.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && opening.Abandoned
                && (deadline is null || deadline > time.GetUtcNow()))
            {
                // Joined an opening whose own requesters had all given up just before: this one still waits, so start anew.
            }
        }
    }

    private async Task<WorkspaceSession> OpenNewAsync(OpenWorkspace request, CancellationToken abandoned)
    {
        var o = options.Value;
        var id = Guid.NewGuid();
        var folder = Path.GetFullPath(Path.Combine(o.WorkspacesPath, id.ToString("N")));
        Directory.CreateDirectory(folder);
        // Whose it is: a replica that dies leaves its folders, and the others remove them (ContainerSweeper).
        await File.WriteAllTextAsync(Path.Combine(folder, WorkspaceSession.OwnerFileName), $"{replica.Id}\n{replica.Instance}\n", CancellationToken.None);
        WorkspaceSession? session = null;
        try
        {
            var baseCommit = await CloneAsync(request, folder, abandoned);
            var directory = Path.Combine(folder, WorkspaceSession.WorkspaceFolderName);
            await launcher.PrepareWorkspaceAsync(directory, abandoned);
            session = new WorkspaceSession(id, request.CorrelationId, folder, launcher.WorkspaceRootFor(directory), baseCommit, request.Repository);
            // What configures the agent and its sandbox is read from the base commit, in the gateway's own repository.
            var files = new BaseCommitFiles(new Git(session.GitDirectory, sealedOff: true), baseCommit);
            if (launcher is DockerLauncher docker && o.Servers.Any(s => s.Builtin == BuiltinServer.Sandbox))
            {
                session.Sandbox = WorkspaceSandbox.Begin(sandboxes, files, docker.HostPathOf(directory), o.ContainerWorkspacePath, docker.ContainerUser,
                    docker.LabelsFor(id, "sandbox"), logger, abandoned);
            }
            foreach (var definition in o.Servers.Where(s => s.Scope == ServerScope.Workspace))
                session.Add(servers.Create(definition, ServerPlacement.InWorkspace(id, session.Directory, request.Repository, session.Sandbox)));
            // Started now, side by side with the sandbox, so the answer carries their tools; one that fails leaves the others working.
            var instructions = InstructionsAsync(files, abandoned);
            var sandboxReady = session.Sandbox?.WaitAsync(abandoned) ?? Task.FromResult<(IReadOnlyList<string>, string?)>(([], null));
            var unavailable = (await Task.WhenAll(session.Servers.Values.Select(s => s.WarmUpAsync(abandoned)))).OfType<string>().ToList();
            var (setupNotes, noSandbox) = await sandboxReady;
            if (noSandbox is not null)
                unavailable.Add(noSandbox);
            session.Unavailable = unavailable;
            session.Guidance = await GuidanceAsync(session, await instructions, setupNotes, abandoned);
            abandoned.ThrowIfCancellationRequested();
            session.Touch(time.GetUtcNow());
            _sessions[id] = session;
            logger.LogInformation("Workspace {SessionId} opened for {CorrelationId} at {BaseCommit}", id, request.CorrelationId, baseCommit);
            return session;
        }
        catch (Exception e)
        {
            if (session is not null)
                await session.StopServersAsync();
            TryDelete(folder);
            if (abandoned.IsCancellationRequested)
                logger.LogInformation("Workspace for {CorrelationId} abandoned while opening: its requester stopped waiting", request.CorrelationId);
            else
                logger.LogWarning("Workspace for {CorrelationId} could not be opened: {Error}", request.CorrelationId, e.Message);
            throw;
        }
    }

    /// <summary>
    /// The gateway's own bare clone first (within the clone limits), then the workspace cloned from it, on the work
    /// branch. Both are made before any container exists, so nothing in them has been touched by a tool yet.
    /// </summary>
    private async Task<string> CloneAsync(OpenWorkspace request, string folder, CancellationToken abandoned)
    {
        var o = options.Value;
        var (gitDirectory, directory) = (Path.Combine(folder, WorkspaceSession.GitFolderName), Path.Combine(folder, WorkspaceSession.WorkspaceFolderName));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(abandoned);
        limit.CancelAfter(o.CloneTimeout);
        var tooLarge = false;
        using var watch = new Timer(_ =>
        {
            if (Folders.Size(folder) <= o.CloneMaxBytes)
                return;
            tooLarge = true;
            limit.Cancel();
        }, null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        try
        {
            await Git.CloneAsync(request.CloneUrl, request.BaseBranch, gitDirectory, bare: true, limit.Token,
                [("http.lowSpeedLimit", o.CloneLowSpeedLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                 ("http.lowSpeedTime", ((int)o.CloneLowSpeedTime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                 // A redirect elsewhere is not followed: the credential below is for this URL alone.
                 ("http.followRedirects", "false"),
                 .. CloneCredential(request)]);
            await Git.CloneAsync(gitDirectory, request.BaseBranch, directory, bare: false, limit.Token);
            var workspace = new Git(Path.Combine(directory, ".git"), directory);
            await workspace.RunAsync(["checkout", "--quiet", "-b", request.WorkBranch], limit.Token);
            // The agent's repository knows nothing of where it came from (the clone URL may one day carry access).
            await workspace.RunAsync(["remote", "remove", "origin"], limit.Token);
            await workspace.RunAsync(["config", "user.name", "Orchestrator"], limit.Token);
            await workspace.RunAsync(["config", "user.email", "orchestrator@users.noreply.github.com"], limit.Token);
            return (await new Git(gitDirectory).TextAsync(limit.Token, "rev-parse", "HEAD")).Trim();
        }
        catch (OperationCanceledException) when (!abandoned.IsCancellationRequested)
        {
            throw new GitException(tooLarge
                ? $"The clone is larger than {o.CloneMaxBytes:N0} bytes (CLONE_MAX_BYTES)"
                : $"The clone did not finish within {o.CloneTimeout} (CLONE_TIMEOUT)");
        }
    }

    /// <summary>
    /// GIT_CLONE_TOKEN as git's HTTP header for exactly this clone URL, when the clone is of an allowed repository from
    /// GIT_CLONE_BASE_URL over https (or http to this machine); otherwise nothing. A request names its clone URL, and
    /// anyone who can publish on the broker can send one: the token never goes anywhere else.
    /// </summary>
    private IEnumerable<(string Key, string Value)> CloneCredential(OpenWorkspace request)
    {
        var o = options.Value;
        if (string.IsNullOrEmpty(o.CloneToken) || request.Repository is null || !repositories.Value.Allows(request.Repository))
            return [];
        var expected = $"{o.CloneBaseUrl.TrimEnd('/')}/{request.Repository}.git";
        if (!string.Equals(request.CloneUrl, expected, StringComparison.Ordinal)
            || !Uri.TryCreate(expected, UriKind.Absolute, out var url)
            || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback)))
            return [];
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"x-access-token:{o.CloneToken}"));
        return [($"http.{expected}.extraHeader", $"Authorization: Basic {basic}")];
    }

    private const int MaxInstructionBytes = 16 * 1024;

    /// <summary>The repository's instructions for agents, as the base commit has them (a file past its limit is cut, and says so).</summary>
    private static async Task<IReadOnlyList<RepositoryFile>> InstructionsAsync(BaseCommitFiles files, CancellationToken cancellationToken)
    {
        List<RepositoryFile> found = [];
        foreach (var path in new[] { "AGENTS.md", ".github/copilot-instructions.md" })
        {
            if (await files.ReadAsync(path, MaxInstructionBytes, cancellationToken) is { } file)
                found.Add(new RepositoryFile(path, file.Cut ? $"{file.Text}\n[… cut at {MaxInstructionBytes:N0} bytes]" : file.Text));
        }
        return found;
    }

    private static async Task<RepositoryGuidance> GuidanceAsync(WorkspaceSession session, IReadOnlyList<RepositoryFile> instructions,
        IReadOnlyList<string> setupNotes, CancellationToken cancellationToken)
    {
        if (session.Sandbox is not { } sandbox)
            return new RepositoryGuidance(instructions, null, null);
        try
        {
            var environment = await sandbox.Environment.WaitAsync(cancellationToken);
            return new RepositoryGuidance(instructions, string.Join('\n', [environment.Describe(), .. setupNotes]), environment.Tests?.Command);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new RepositoryGuidance(instructions, $"No sandbox: {e.Message}", null);
        }
    }

    public async Task<CollectedChanges> CollectAsync(WorkspaceSession session, CancellationToken cancellationToken) =>
        await collector.CollectAsync(session, cancellationToken);

    public async Task CloseAsync(Guid sessionId)
    {
        if (!_sessions.TryRemove(sessionId, out var session))
            return;
        await session.StopServersAsync();
        TryDelete(session.Folder);
        logger.LogInformation("Workspace {SessionId} closed", sessionId);
    }

    /// <summary>Closes every session of the work item, and abandons its opening if one is under way (the work item has ended).</summary>
    public async Task CloseForAsync(Guid correlationId)
    {
        if (_opening.TryGetValue(correlationId, out var opening))
            opening.Abandon();
        foreach (var session in _sessions.Values.Where(s => s.CorrelationId == correlationId).ToList())
        {
            logger.LogInformation("Work item {CorrelationId} has ended: closing its workspace {SessionId}", correlationId, session.Id);
            await CloseAsync(session.Id);
        }
    }

    public async Task CloseAllAsync()
    {
        foreach (var opening in _opening.Values)
            opening.Abandon();
        await Task.WhenAll(_sessions.Keys.Select(CloseAsync));
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAllAsync();
    }

    private void TryDelete(string directory) => Folders.Delete(directory, logger);

    /// <summary>One workspace being opened, with the latest deadline of the requests waiting for it.</summary>
    private sealed class Opening
    {
        private readonly CancellationTokenSource _abandon = new();
        private readonly Lock _lock = new();
        private DateTimeOffset? _deadline = DateTimeOffset.MinValue;
        private bool _finished;

        public Opening(WorkspaceManager manager, OpenWorkspace request)
        {
            _abandon.Token.Register(() => Abandoned = true);
            Opened = Task.Run(async () =>
            {
                try
                {
                    return await manager.OpenNewAsync(request, _abandon.Token);
                }
                finally
                {
                    manager._opening.TryRemove(new KeyValuePair<Guid, Opening>(request.CorrelationId, this));
                    lock (_lock)
                    {
                        _finished = true;
                        _abandon.Dispose();
                    }
                }
            });
        }

        public Task<WorkspaceSession> Opened { get; }

        /// <summary>Every request that waited for it gave up (or the replica is stopping): it was, or is being, undone.</summary>
        public bool Abandoned { get; private set; }

        /// <summary>Keeps the opening going until <paramref name="deadline"/> at least (for as long as it takes, when null).</summary>
        public void WaitUntil(DateTimeOffset? deadline, TimeProvider time)
        {
            lock (_lock)
            {
                if (_finished || Abandoned || _deadline is null || (deadline is not null && deadline <= _deadline))
                    return;
                _deadline = deadline;
                var left = deadline is { } d ? d - time.GetUtcNow() : Timeout.InfiniteTimeSpan;
                _abandon.CancelAfter(left < TimeSpan.Zero && left != Timeout.InfiniteTimeSpan ? TimeSpan.Zero : left);
            }
        }

        public void Abandon()
        {
            lock (_lock)
            {
                if (!_finished)
                    _abandon.Cancel();
            }
        }
    }
}
