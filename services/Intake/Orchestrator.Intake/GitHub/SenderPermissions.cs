using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Orchestrator.GitHub;

namespace Orchestrator.Intake.GitHub;

/// <summary>
/// Whether someone may give Orchestrator commands on a repository: write access (write, maintain or admin), asked of
/// GitHub when the command arrives (the collaborator permission endpoint), not read from the payload's author
/// association, which says how they relate to the repository, not what they may do in it now. Without a GitHub
/// credential nothing can be asked, and nobody may.
/// </summary>
public sealed class SenderPermissions(GitHubClientFactory clients, IOptions<GitHubOptions> options, ILogger<SenderPermissions> logger)
{
    private readonly Lazy<IGitHubClient> _client = new(() => clients.Create());

    /// <summary>True when <paramref name="login"/> has write access to <paramref name="repository"/> ("owner/name") now.</summary>
    public async Task<bool> MayWriteAsync(string repository, string login, CancellationToken cancellationToken)
    {
        if (!options.Value.HasCredentials)
        {
            logger.LogWarning("A command by {Login} is ignored: without GITHUB_TOKEN or a GitHub App, Intake cannot ask GitHub whether they may write to {Repository}",
                login, repository);
            return false;
        }
        var (owner, name) = (repository.Split('/')[0], repository.Split('/')[1]);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var permission = await _client.Value.Repository.Collaborator.ReviewPermission(owner, name, login);
            // GitHub answers "admin", "write", "read" or "none"; maintain counts as write, triage as read.
            return permission.Permission is "admin" or "write";
        }
        catch (NotFoundException)
        {
            return false;
        }
    }
}
