using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>The workspace sessions this replica holds: clone, branch, servers, changes, and cleanup.</summary>
public sealed class WorkspaceManager(
    IOptions<ToolGatewayOptions> options, ILoggerFactory loggers, ILogger<WorkspaceManager> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, WorkspaceSession> _sessions = new();
    private readonly SemaphoreSlim _opening = new(1, 1);

    public WorkspaceSession? Find(Guid sessionId) => _sessions.GetValueOrDefault(sessionId);

    public async Task<WorkspaceSession> OpenAsync(OpenWorkspace request, CancellationToken cancellationToken)
    {
        // A redelivered OpenWorkspace gets the session the first delivery opened.
        await _opening.WaitAsync(cancellationToken);
        try
        {
            var existing = _sessions.Values.FirstOrDefault(s => s.CorrelationId == request.CorrelationId);
            if (existing is not null)
                return existing;
        }
        finally
        {
            _opening.Release();
        }

        var id = Guid.NewGuid();
        var directory = Path.GetFullPath(Path.Combine(options.Value.WorkspacesPath, id.ToString("N")));
        Directory.CreateDirectory(directory);
        try
        {
            await Git.RunAsync(directory, cancellationToken, "clone", "--quiet", "--single-branch", "--branch", request.BaseBranch, "--", request.CloneUrl, ".");
            await Git.RunAsync(directory, cancellationToken, "checkout", "--quiet", "-b", request.WorkBranch);
            await Git.RunAsync(directory, cancellationToken, "config", "user.name", "Orchestrator");
            await Git.RunAsync(directory, cancellationToken, "config", "user.email", "orchestrator@users.noreply.github.com");
            var baseCommit = (await Git.RunAsync(directory, cancellationToken, "rev-parse", "HEAD")).Trim();

            var session = new WorkspaceSession(id, request.CorrelationId, directory, baseCommit);
            foreach (var definition in options.Value.Servers.Where(s => s.Scope == ServerScope.Workspace))
            {
                try
                {
                    session.Add(await McpServerInstance.StartAsync(definition, directory, loggers, cancellationToken));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One broken server must not take the others down; its tools are simply absent.
                    logger.LogWarning(e, "MCP server {Server} did not start for session {SessionId}", definition.Name, id);
                }
            }
            _sessions[id] = session;
            logger.LogInformation("Workspace {SessionId} opened for {CorrelationId} at {BaseCommit}", id, request.CorrelationId, baseCommit);
            return session;
        }
        catch
        {
            TryDelete(directory);
            throw;
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

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _sessions.Keys)
            await CloseAsync(id);
        _opening.Dispose();
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
