using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Catalog;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>The workspace sessions this replica holds: clone, branch, servers, changes, and cleanup.</summary>
public sealed class WorkspaceManager(
    IOptions<ToolGatewayOptions> options, IServerLauncher launcher, McpServerFactory servers, ILogger<WorkspaceManager> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, WorkspaceSession> _sessions = new();
    private readonly ConcurrentDictionary<Guid, Lazy<Task<WorkspaceSession>>> _opening = new();

    public WorkspaceSession? Find(Guid sessionId) => _sessions.GetValueOrDefault(sessionId);

    /// <summary>
    /// Opens the work item's session, or returns the one it has: a redelivered OpenWorkspace, even one that arrives while
    /// the first is still cloning, gets the same session.
    /// </summary>
    public Task<WorkspaceSession> OpenAsync(OpenWorkspace request, CancellationToken cancellationToken)
    {
        var existing = _sessions.Values.FirstOrDefault(s => s.CorrelationId == request.CorrelationId);
        if (existing is not null)
            return Task.FromResult(existing);
        var opening = _opening.GetOrAdd(request.CorrelationId, _ => new Lazy<Task<WorkspaceSession>>(() => OpenNewAsync(request)));
        return opening.Value.WaitAsync(cancellationToken);
    }

    private async Task<WorkspaceSession> OpenNewAsync(OpenWorkspace request)
    {
        var cancellationToken = CancellationToken.None;
        var id = Guid.NewGuid();
        var directory = Path.GetFullPath(Path.Combine(options.Value.WorkspacesPath, id.ToString("N")));
        Directory.CreateDirectory(directory);
        WorkspaceSession? session = null;
        try
        {
            await Git.RunAsync(directory, cancellationToken, "clone", "--quiet", "--single-branch", "--branch", request.BaseBranch, "--", request.CloneUrl, ".");
            await Git.RunAsync(directory, cancellationToken, "checkout", "--quiet", "-b", request.WorkBranch);
            await Git.RunAsync(directory, cancellationToken, "config", "user.name", "Orchestrator");
            await Git.RunAsync(directory, cancellationToken, "config", "user.email", "orchestrator@users.noreply.github.com");
            var baseCommit = (await Git.RunAsync(directory, cancellationToken, "rev-parse", "HEAD")).Trim();
            await launcher.PrepareWorkspaceAsync(directory, cancellationToken);

            session = new WorkspaceSession(id, request.CorrelationId, directory, launcher.WorkspaceRootFor(directory), baseCommit);
            foreach (var definition in options.Value.Servers.Where(s => s.Scope == ServerScope.Workspace))
                session.Add(servers.Create(definition, ServerPlacement.InWorkspace(id, directory)));
            // Started now, side by side, so the answer carries their tools; one that fails leaves the others working.
            session.Unavailable = [.. (await Task.WhenAll(session.Servers.Values.Select(s => s.WarmUpAsync(cancellationToken)))).OfType<string>()];
            _sessions[id] = session;
            logger.LogInformation("Workspace {SessionId} opened for {CorrelationId} at {BaseCommit}", id, request.CorrelationId, baseCommit);
            return session;
        }
        catch
        {
            if (session is not null)
                await session.StopServersAsync();
            TryDelete(directory);
            throw;
        }
        finally
        {
            _opening.TryRemove(request.CorrelationId, out _);
        }
    }

    public async Task<WorkspaceChanges> CollectAsync(WorkspaceSession session, CancellationToken cancellationToken)
    {
        var dir = session.Directory;
        await Git.RunAsync(dir, cancellationToken, "add", "--all");
        var status = await Git.RunAsync(dir, cancellationToken, "diff", "--cached", "--no-renames", "--name-status", session.BaseCommit);
        var diff = await Git.RunAsync(dir, cancellationToken, "diff", "--cached", "--no-renames", session.BaseCommit);

        var files = new List<ChangedFile>();
        foreach (var line in status.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (code, path) = (line[0], line[(line.IndexOf('\t') + 1)..]);
            var change = code switch { 'A' => FileChange.Added, 'D' => FileChange.Deleted, _ => FileChange.Modified };
            var content = change == FileChange.Deleted ? null : await File.ReadAllTextAsync(Path.Combine(dir, path), cancellationToken);
            files.Add(new ChangedFile(path, change, content));
        }
        return new WorkspaceChanges(session.CorrelationId, session.Id, session.BaseCommit, files, diff);
    }

    public async Task CloseAsync(Guid sessionId)
    {
        if (!_sessions.TryRemove(sessionId, out var session))
            return;
        await session.StopServersAsync();
        TryDelete(session.Directory);
        logger.LogInformation("Workspace {SessionId} closed", sessionId);
    }

    public async Task CloseAllAsync() => await Task.WhenAll(_sessions.Keys.Select(CloseAsync));

    public async ValueTask DisposeAsync()
    {
        await CloseAllAsync();
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Workspace folder {Directory} could not be removed", directory);
        }
    }
}
