using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Orchestrator.Contracts;
using Orchestrator.GitHub;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher.GitHub;

/// <summary>
/// Publishes through the Git Data API, not a git push: Publisher then needs no clone, no git binary and no workspace
/// (those live in ToolGateway), the commit is built from the proposed files on the exact base commit, and the same HTTPS
/// token (or App installation token) serves every write. A commit is dated with the publish's first attempt, so a
/// retried publish makes the very same commit SHA.
/// </summary>
public sealed class GitHubForge(
    GitHubClientFactory clients, IOptions<PublisherOptions> options, IOptions<RepositoryAllowList> repositories, TimeProvider clock, ILogger<GitHubForge> logger)
    : IForge
{
    private readonly Lazy<IGitHubClient> _client = new(() => clients.Create());

    private IGitHubClient GitHub => _client.Value;

    public async Task<PullRequestRef> PublishAsync(PullRequestDraft draft, CancellationToken cancellationToken)
    {
        var (owner, name) = Split(draft.Repository);
        var baseCommit = await Call(async () =>
        {
            try
            {
                return await GitHub.Git.Commit.Get(owner, name, draft.BaseCommit);
            }
            catch (NotFoundException)
            {
                throw new PublishFailedException("base-commit-missing", $"the base commit {draft.BaseCommit} is not in {draft.Repository} on GitHub");
            }
            catch (ApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // GitHub's Git Data API answers 409 "Git Repository is empty." for a repository without a commit.
                throw new PublishFailedException("repository-empty", $"{draft.Repository} on GitHub has no commits ({e.ApiError?.Message ?? e.Message})");
            }
        }, cancellationToken);

        // Octokit's NewTreeItem cannot say "sha": null, which is how the API deletes a path: the tree is sent as our own JSON.
        var entries = new List<object>();
        foreach (var file in draft.Files)
            entries.Add(await TreeEntryAsync(owner, name, file, cancellationToken));
        var tree = JsonSerializer.Serialize(new { base_tree = baseCommit.Tree.Sha, tree = entries });
        var newTree = await Call(async () => (await GitHub.Connection.Post<TreeResponse>(
            new Uri($"repos/{owner}/{name}/git/trees", UriKind.Relative), tree, "application/vnd.github+json", "application/json",
            (IDictionary<string, string>?)null, cancellationToken)).Body, cancellationToken);
        var commit = await CommitToBranchAsync(owner, name, draft, baseCommit.Sha, newTree.Sha, cancellationToken);
        var pull = await UpsertPullRequestAsync(owner, name, draft, cancellationToken);
        return new PullRequestRef(pull.Number, pull.HtmlUrl, commit);
    }

    /// <summary>
    /// Puts the tree on the branch as one commit, never by force. A new branch starts at the base commit. A branch that
    /// exists (an earlier attempt of a retried issue) gets the commit on top of its head, with the tree built on the base,
    /// and is moved only as a fast forward: GitHub refuses the move if the branch moved meanwhile, so a push that lands
    /// between our look and our write is never lost. A head that is not Orchestrator's (a person pushed to the branch) is
    /// never built over: the publish fails and says whose commit is there. A head that already is this commit (a publish
    /// retried after it moved the branch) is taken as done.
    /// </summary>
    private async Task<string> CommitToBranchAsync(string owner, string name, PullRequestDraft draft, string baseSha, string tree, CancellationToken cancellationToken)
    {
        // The last line of defence: whatever reached this far, only our own branches are ever created or moved.
        if (!draft.Branch.StartsWith(WorkBranches.Prefix, StringComparison.Ordinal) || draft.Branch.Contains("..", StringComparison.Ordinal))
            throw new PublishFailedException("branch-not-allowed", $"branch {draft.Branch} is not an {WorkBranches.Prefix} branch");
        var author = new Committer(options.Value.CommitAuthorName, options.Value.CommitAuthorEmail, draft.CommitDate);
        for (var attempt = 1; ; attempt++)
        {
            var head = await BranchHeadAsync(owner, name, draft.Branch, cancellationToken);
            if (head is null)
            {
                var first = await Call(() => GitHub.Git.Commit.Create(owner, name, new NewCommit(draft.CommitMessage, tree, baseSha) { Author = author, Committer = author }),
                    cancellationToken);
                try
                {
                    await Call(() => GitHub.Git.Reference.Create(owner, name, new NewReference($"refs/heads/{draft.Branch}", first.Sha)), cancellationToken);
                    return first.Sha;
                }
                catch (ApiValidationException e) when (attempt < 3 && Says(e, "already exists"))
                {
                    // Created between our look and our write: look again.
                    continue;
                }
            }
            var current = await Call(() => GitHub.Git.Commit.Get(owner, name, head), cancellationToken);
            if (IsOurs(current) && current.Tree.Sha == tree && current.Message == draft.CommitMessage)
                return current.Sha;
            if (!IsOurs(current) && current.Sha != baseSha)
            {
                throw new PublishFailedException("branch-has-other-commits",
                    $"{draft.Branch} has a commit that is not Orchestrator's ({current.Sha[..Math.Min(12, current.Sha.Length)]} by {current.Author?.Name ?? "someone"}): it is not overwritten");
            }
            var next = await Call(() => GitHub.Git.Commit.Create(owner, name, new NewCommit(draft.CommitMessage, tree, current.Sha) { Author = author, Committer = author }),
                cancellationToken);
            try
            {
                await Call(() => GitHub.Git.Reference.Update(owner, name, $"heads/{draft.Branch}", new ReferenceUpdate(next.Sha, force: false)), cancellationToken);
                return next.Sha;
            }
            catch (ApiValidationException e) when (attempt < 3 && Says(e, "fast forward"))
            {
                logger.LogWarning("{Branch} moved while Publisher wrote to it: looking again", draft.Branch);
            }
        }
    }

    /// <summary>A commit Publisher made: its author and committer are Publisher's identity (COMMIT_AUTHOR_NAME, COMMIT_AUTHOR_EMAIL).</summary>
    private bool IsOurs(Commit commit) =>
        commit.Author?.Name == options.Value.CommitAuthorName && commit.Author?.Email == options.Value.CommitAuthorEmail
        && commit.Committer?.Name == options.Value.CommitAuthorName && commit.Committer?.Email == options.Value.CommitAuthorEmail;

    /// <summary>The branch's head commit, or null when there is no such branch.</summary>
    private async Task<string?> BranchHeadAsync(string owner, string name, string branch, CancellationToken cancellationToken) =>
        // The exact look-up (git/ref/...): the old git/refs/... path matches by prefix, and answers a list when the branch
        // itself is missing but a longer one (orchestrator/issue-10 for orchestrator/issue-1) is there.
        await Call(async () =>
        {
            try
            {
                return (await GitHub.Connection.Get<Reference>(
                    new Uri($"repos/{owner}/{name}/git/ref/heads/{Escape(branch)}", UriKind.Relative), null)).Body.Object.Sha;
            }
            catch (NotFoundException)
            {
                return null;
            }
        }, cancellationToken);

    /// <summary>
    /// One entry of the new tree, in the file's git mode: text inline, binary content as a blob created first (base64),
    /// a symbolic link as a blob holding its target, a submodule as the commit it points at, a deletion as a null sha.
    /// </summary>
    private async Task<object> TreeEntryAsync(string owner, string name, ChangedFile file, CancellationToken cancellationToken)
    {
        var mode = file.Mode switch
        {
            GitFileMode.Executable => "100755",
            GitFileMode.Symlink => "120000",
            GitFileMode.Submodule => "160000",
            _ => "100644",
        };
        var type = file.Mode == GitFileMode.Submodule ? "commit" : "blob";
        if (file.Change == FileChange.Deleted)
            return new { path = file.Path, mode, type, sha = (string?)null };
        if (file.Mode == GitFileMode.Submodule)
            return new { path = file.Path, mode, type, sha = file.Content };
        if (file.Data is { } data)
        {
            var blob = await Call(() => GitHub.Git.Blob.Create(owner, name, new NewBlob { Content = Convert.ToBase64String(data), Encoding = EncodingType.Base64 }),
                cancellationToken);
            return new { path = file.Path, mode, type, sha = blob.Sha };
        }
        return new { path = file.Path, mode, type, content = file.Content ?? "" };
    }

    public async Task<byte[]?> ReadFileAsync(string repository, string commit, string path, int maxBytes, CancellationToken cancellationToken)
    {
        var (owner, name) = Split(repository);
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        try
        {
            var response = await Call(() => GitHub.Connection.GetRawStream(
                new Uri($"repos/{owner}/{name}/contents/{escaped}", UriKind.Relative), new Dictionary<string, string> { ["ref"] = commit }), cancellationToken);
            await using var stream = response.Body;
            var buffer = new byte[maxBytes];
            var read = 0;
            int n;
            while (read < maxBytes && (n = await stream.ReadAsync(buffer.AsMemory(read, maxBytes - read), cancellationToken)) > 0)
                read += n;
            return buffer[..read];
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    private async Task<PullRequest> UpsertPullRequestAsync(string owner, string name, PullRequestDraft draft, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var open = await Call(() => GitHub.PullRequest.GetAllForRepository(owner, name,
                new PullRequestRequest { State = ItemStateFilter.Open, Head = $"{owner}:{draft.Branch}" }, Pages), cancellationToken);
            if (open.Count > 0)
            {
                var pull = open[0];
                if (pull.Title == draft.Title && pull.Body == draft.Body)
                    return pull;
                logger.LogInformation("Pull request #{Number} for {Branch} exists: updating it", pull.Number, draft.Branch);
                return await Call(() => GitHub.PullRequest.Update(owner, name, pull.Number, new PullRequestUpdate { Title = draft.Title, Body = draft.Body }), cancellationToken);
            }
            try
            {
                return await Call(() => GitHub.PullRequest.Create(owner, name,
                    new NewPullRequest(draft.Title, draft.Branch, draft.BaseBranch) { Body = draft.Body, Draft = draft.Draft }), cancellationToken);
            }
            catch (ApiValidationException e) when (attempt < 3 && Says(e, "already exists"))
            {
                // Opened between our look and our write, or listed late (GitHub's lists lag): look again and update it.
                logger.LogInformation("A pull request for {Branch} already exists though none was listed: looking again", draft.Branch);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), clock, cancellationToken);
            }
        }
    }

    public async Task<long> WriteStatusCommentAsync(string repository, int issue, long? commentId, string marker, string body, CancellationToken cancellationToken)
    {
        var (owner, name) = Split(repository);
        if (commentId is { } id and > 0)
        {
            try
            {
                return (await Call(() => GitHub.Issue.Comment.Update(owner, name, id, body), cancellationToken)).Id;
            }
            catch (NotFoundException)
            {
                logger.LogWarning("Status comment {CommentId} on {Repository}#{Issue} is gone: writing a new one", id, repository, issue);
            }
        }
        // A comment written by an attempt that died before it could record the id carries the marker.
        var comments = await Call(() => GitHub.Issue.Comment.GetAllForIssue(owner, name, issue, Pages), cancellationToken);
        if (comments.FirstOrDefault(c => c.Body?.Contains(marker, StringComparison.Ordinal) == true) is { } earlier)
        {
            return earlier.Body == body ? earlier.Id : (await Call(() => GitHub.Issue.Comment.Update(owner, name, earlier.Id, body), cancellationToken)).Id;
        }
        return (await Call(() => GitHub.Issue.Comment.Create(owner, name, issue, body), cancellationToken)).Id;
    }

    public async Task SetLabelsAsync(string repository, int issue, IReadOnlyCollection<string> wanted, IReadOnlyCollection<string> unwanted, CancellationToken cancellationToken)
    {
        var (owner, name) = Split(repository);
        var current = (await Call(() => GitHub.Issue.Labels.GetAllForIssue(owner, name, issue, Pages), cancellationToken))
            .Select(l => l.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var add = wanted.Where(l => !current.Contains(l)).ToArray();
        // GitHub creates a label that the repository does not have yet.
        if (add.Length > 0)
            await Call(() => GitHub.Issue.Labels.AddToIssue(owner, name, issue, add), cancellationToken);
        foreach (var label in unwanted.Where(current.Contains))
        {
            try
            {
                await Call(() => GitHub.Issue.Labels.RemoveFromIssue(owner, name, issue, label), cancellationToken);
            }
            catch (NotFoundException)
            {
                // Someone removed it first: the issue is as we want it.
            }
        }
    }

    /// <summary>Runs one GitHub call, waiting out a rate limit (up to GITHUB_RATE_LIMIT_MAX_WAIT) instead of failing.</summary>
    private async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await call();
            }
            catch (ApiException e) when (RateLimits.RetryAfter(e, clock.GetUtcNow()) is { } wait && wait <= options.Value.RateLimitMaxWait)
            {
                logger.LogWarning("GitHub rate limit ({Status}): waiting {Wait} before trying again", (int)e.StatusCode, wait);
                await Task.Delay(wait, clock, cancellationToken);
            }
        }
    }

    private async Task Call(Func<Task> call, CancellationToken cancellationToken) =>
        await Call(async () => { await call(); return true; }, cancellationToken);

    /// <summary>Lists are read whole, page after page (Octokit follows the Link header), 100 at a time.</summary>
    private static readonly ApiOptions Pages = new() { PageSize = 100 };

    /// <summary>
    /// Whether GitHub's refusal says <paramref name="text"/>: in its message ("Reference already exists"), or, for a
    /// failed validation (message "Validation Failed"), in one of its <c>errors[]</c>, by message or code.
    /// </summary>
    private static bool Says(ApiException e, string text) =>
        e.ApiError?.Message?.Contains(text, StringComparison.OrdinalIgnoreCase) == true
        || e.ApiError?.Errors?.Any(x => x.Message?.Contains(text, StringComparison.OrdinalIgnoreCase) == true
            || x.Code?.Replace('_', ' ').Contains(text, StringComparison.OrdinalIgnoreCase) == true) == true;

    private static string Escape(string branch) => string.Join('/', branch.Split('/').Select(Uri.EscapeDataString));

    // Every call names its repository through here: none outside REPOSITORIES is ever written to.
    private (string Owner, string Name) Split(string repository) =>
        !repositories.Value.Allows(repository)
            ? throw new PublishFailedException("repository-not-allowed", $"{repository} is not in REPOSITORIES")
            : repository.Split('/') is [var owner, var name] ? (owner, name) : throw new PublishFailedException("bad-repository", $"'{repository}' is not owner/name");
}
