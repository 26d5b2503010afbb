using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Testing.GitHub;

/// <summary>
/// A stateful stand-in for the GitHub REST API, served over real HTTP on 127.0.0.1 so the real Octokit client talks to
/// it: issues and their labels and comments, repository labels, git data (blobs, trees, commits, refs — kept in a real
/// bare repository), pull requests, GitHub App installation tokens, rate-limit headers, ETags and conditional requests.
/// It is one repository, as a deployment is. Faults: answers with a rate limit, and requests held after they took effect.
/// </summary>
public sealed partial class FakeGitHub : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly List<FakeIssue> _issues = [];
    private readonly List<FakeComment> _comments = [];
    private readonly List<FakePullRequest> _pulls = [];
    private readonly HashSet<string> _labels = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _tokens = [];
    private readonly List<(string Method, string PathSuffix, int Status, Dictionary<string, string> Headers)> _faults = [];
    private readonly List<HeldRequest> _holds = [];
    private readonly List<HeldRequest> _allHolds = [];
    private readonly LockedList<RecordedRequest> _requests = new();
    private int _nextNumber = 1;
    private long _nextCommentId = 1000;
    private int _rateRemaining = 5000;
    private (long AppId, RSA Key, long InstallationId)? _gitHubApp;

    private FakeGitHub(WebApplication app, string owner, string name, FakeGitStore git)
    {
        _app = app;
        Owner = owner;
        Name = name;
        Git = git;
    }

    public string Owner { get; }
    public string Name { get; }
    public string Repository => $"{Owner}/{Name}";

    /// <summary>What GITHUB_API_URL is set to. Octokit adds /api/v3/ to a host that is not github.com, as for Enterprise.</summary>
    public Uri Url { get; private set; } = null!;

    public FakeGitStore Git { get; }

    /// <summary>The most issues on one page, whatever per_page asks (GitHub's is 100); lower it to make a test page.</summary>
    public int PageSizeLimit { get; set; } = 100;

    public IReadOnlyList<RecordedRequest> Requests => _requests.Snapshot();

    /// <summary>
    /// Where the repository is cloned from over HTTP, as GIT_CLONE_BASE_URL ("{base}/{owner}/{name}.git"), for a clone
    /// that cannot reach the bare repository's folder (from a container).
    /// </summary>
    public Uri GitBaseUrl => new(Url, "git");

    /// <param name="gitDirectory">A bare repository: the repository's git data, which ToolGateway can clone as well.</param>
    /// <param name="listenUrl">Where to listen, when not on a free port of 127.0.0.1.</param>
    public static async Task<FakeGitHub> StartAsync(string repository, string gitDirectory, string token, string listenUrl = LoopbackServer.Loopback)
    {
        var app = LoopbackServer.Create(listenUrl);
        var parts = repository.Split('/');
        var fake = new FakeGitHub(app, parts[0], parts[1], new FakeGitStore(gitDirectory));
        fake._tokens.Add(token);
        fake.Map(app);
        fake.Url = await LoopbackServer.StartAsync(app);
        return fake;
    }

    // ---- what tests set up and inspect ----

    public FakeIssue AddIssue(string title, string body = "", string[]? labels = null, string author = "octocat", string association = "OWNER", bool pullRequest = false)
    {
        lock (_lock)
        {
            var issue = new FakeIssue { Number = _nextNumber++, Title = title, Body = body, Author = author, AuthorAssociation = association, IsPullRequest = pullRequest };
            issue.Labels.AddRange(labels ?? []);
            _issues.Add(issue);
            return issue;
        }
    }

    public IReadOnlyList<string> LabelsOf(int number)
    {
        lock (_lock)
            return [.. _issues.Single(i => i.Number == number).Labels];
    }

    public IReadOnlyList<FakeComment> CommentsOn(int number)
    {
        lock (_lock)
            return [.. _comments.Where(c => c.IssueNumber == number)];
    }

    /// <summary>The repository is private: git is served only to a request with a token of ours (Basic, any user name).</summary>
    public bool PrivateRepository { get; set; }

    /// <summary>How long each file git asks for takes: a slow clone, to look at the machine while it runs.</summary>
    public TimeSpan GitDelay { get; set; }

    /// <summary>Git requests refused for want of a token.</summary>
    public int AnonymousCloneAttempts { get; private set; }

    private bool MayClone(string authorization)
    {
        if (!authorization.StartsWith("Basic ", StringComparison.Ordinal))
            return false;
        try
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..]));
            lock (_lock)
                return pair.Split(':', 2) is [_, var password] && _tokens.Contains(password);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>A comment someone (or an earlier Publisher) wrote on the issue.</summary>
    public FakeComment AddComment(int number, string body, string author = "someone")
    {
        lock (_lock)
        {
            var comment = new FakeComment { Id = _nextCommentId++, IssueNumber = number, Body = body, Author = author };
            _comments.Add(comment);
            return comment;
        }
    }

    /// <summary>
    /// The next listing of pull requests answers as if none were open: GitHub's lists lag behind a pull request just
    /// opened, so a create can meet "already exists" after a listing found nothing.
    /// </summary>
    public void MissNextPullRequestListing()
    {
        lock (_lock)
            _missNextPullListing = true;
    }

    private bool _missNextPullListing;

    public IReadOnlyList<FakePullRequest> PullRequests
    {
        get
        {
            lock (_lock)
                return [.. _pulls];
        }
    }

    /// <summary>Serve GitHub App authentication: JWTs signed by <paramref name="key"/>'s private half buy installation tokens.</summary>
    public void EnableApp(long appId, RSA key, long installationId)
    {
        lock (_lock)
            _gitHubApp = (appId, key, installationId);
    }

    public int InstallationTokensIssued { get; private set; }

    /// <summary>The next <paramref name="count"/> requests whose path ends with <paramref name="pathSuffix"/> are refused as rate limited.</summary>
    public void RateLimit(string method, string pathSuffix, int count, int status, Dictionary<string, string> headers)
    {
        lock (_lock)
            for (var i = 0; i < count; i++)
                _faults.Add((method, pathSuffix, status, headers));
    }

    /// <summary>The next request matching takes effect, then waits for <see cref="HeldRequest.Release"/> before it is answered.</summary>
    public HeldRequest Hold(string method, string pathSuffix)
    {
        var hold = new HeldRequest(method, pathSuffix);
        lock (_lock)
        {
            _holds.Add(hold);
            _allHolds.Add(hold);
        }
        return hold;
    }

    // ---- the HTTP surface ----

    private void Map(WebApplication app)
    {
        // Before the API's middleware: the repository's files are public, as a public repository's are.
        app.Map($"/git/{Owner}/{Name}.git", git => git.Run(ServeGitFileAsync));
        app.Use(Middleware);
        var repo = app.MapGroup("/api/v3/repos/{owner}/{name}");
        repo.MapGet("/issues", ListIssues);
        repo.MapGet("/issues/{number:int}", (int number) => WithIssue(number, i => Results.Json(IssueWithPull(i), Json)));
        repo.MapGet("/issues/{number:int}/comments", ListComments);
        repo.MapPost("/issues/{number:int}/comments", CreateComment);
        repo.MapPatch("/issues/comments/{id:long}", EditComment);
        repo.MapGet("/issues/{number:int}/labels", (int number) => WithIssue(number, i => Results.Json(i.Labels.Select(LabelJson), Json)));
        repo.MapPost("/issues/{number:int}/labels", AddLabels);
        repo.MapDelete("/issues/{number:int}/labels/{label}", RemoveLabel);
        repo.MapGet("/labels/{label}", GetLabel);
        repo.MapPost("/labels", CreateLabel);
        repo.MapGet("/git/ref/{**reference}", GetRef);
        repo.MapGet("/git/refs/{**reference}", GetRefsByPrefix);
        repo.MapPost("/git/refs", CreateRef);
        repo.MapPatch("/git/refs/{**reference}", UpdateRef);
        repo.MapGet("/git/commits/{sha}", GetCommit);
        repo.MapPost("/git/blobs", CreateBlob);
        repo.MapPost("/git/trees", CreateTree);
        repo.MapPost("/git/commits", CreateCommit);
        repo.MapGet("/contents/{**path}", GetContents);
        repo.MapGet("/pulls", ListPulls);
        repo.MapGet("/pulls/{number:int}", (int number) => WithPull(number, p => Results.Json(PullJson(p), Json)));
        repo.MapPost("/pulls", CreatePull);
        repo.MapPatch("/pulls/{number:int}", UpdatePull);
        repo.MapGet("/installation", GetInstallation);
        repo.MapGet("/collaborators/{username}/permission", GetPermission);
        app.MapPost("/api/v3/app/installations/{id:long}/access_tokens", CreateInstallationToken);
    }

    /// <summary>
    /// git's "dumb" HTTP protocol: the bare repository's files as they are, after <c>git update-server-info</c> has
    /// listed its refs and packs, so <c>git clone {GitBaseUrl}/{owner}/{name}.git</c> works from anywhere that reaches us.
    /// </summary>
    private async Task ServeGitFileAsync(HttpContext context)
    {
        if (PrivateRepository && !MayClone(context.Request.Headers.Authorization.ToString()))
        {
            // As GitHub answers git for a private repository without credentials.
            lock (_lock)
                AnonymousCloneAttempts++;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"GitHub\"";
            context.Response.StatusCode = 401;
            return;
        }
        if (GitDelay > TimeSpan.Zero)
            await Task.Delay(GitDelay);
        var relative = (context.Request.Path.Value ?? "").TrimStart('/');
        if (relative == "info/refs")
            await Git.UpdateServerInfoAsync();
        var root = Path.GetFullPath(Git.GitDirectory) + Path.DirectorySeparatorChar;
        var file = Path.GetFullPath(Path.Combine(root, relative));
        if (relative.Length == 0 || !file.StartsWith(root, StringComparison.Ordinal) || !File.Exists(file))
        {
            context.Response.StatusCode = 404;
            return;
        }
        context.Response.ContentType = relative == "info/refs" ? "text/plain" : "application/octet-stream";
        await context.Response.SendFileAsync(file);
    }

    private async Task Middleware(HttpContext context, RequestDelegate next)
    {
        var arrived = DateTimeOffset.UtcNow;
        context.Request.EnableBuffering();
        var requestBody = await new StreamReader(context.Request.Body).ReadToEndAsync();
        context.Request.Body.Position = 0;
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;
        var authorization = context.Request.Headers.Authorization.ToString();
        int status;
        HeldRequest? hold = null;
        var original = context.Response.Body;
        var buffer = new MemoryStream();
        try
        {
            (int Status, Dictionary<string, string> Headers)? fault = null;
            bool authorized;
            lock (_lock)
            {
                var index = _faults.FindIndex(f => f.Method == method && path.EndsWith(f.PathSuffix, StringComparison.Ordinal));
                if (index >= 0)
                {
                    fault = (_faults[index].Status, _faults[index].Headers);
                    _faults.RemoveAt(index);
                }
                var token = authorization.Split(' ', 2) is [_, var value] ? value : null;
                authorized = token is not null && (_tokens.Contains(token) || path.Contains("/installation", StringComparison.Ordinal)
                    || path.Contains("/access_tokens", StringComparison.Ordinal));
                hold = _holds.FirstOrDefault(h => h.Method == method && path.EndsWith(h.PathSuffix, StringComparison.Ordinal));
                if (hold is not null)
                    _holds.Remove(hold);
            }
            if (fault is { } refused)
            {
                foreach (var (key, value) in refused.Headers)
                    context.Response.Headers[key] = value;
                context.Response.StatusCode = refused.Status;
                await context.Response.WriteAsJsonAsync(new { message = "API rate limit exceeded for installation.", documentation_url = "https://docs.github.com/rest/rate-limit" });
                status = refused.Status;
                return;
            }
            if (!authorized)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { message = "Bad credentials" });
                status = 401;
                return;
            }
            context.Response.Body = buffer;
            await next(context);
            status = context.Response.StatusCode;
            if (status != 304)
            {
                lock (_lock)
                    _rateRemaining--;
            }
            context.Response.Headers["X-RateLimit-Limit"] = "5000";
            context.Response.Headers["X-RateLimit-Remaining"] = _rateRemaining.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["X-RateLimit-Reset"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            if (hold is not null)
            {
                hold.Arrive();
                await hold.Released;
            }
            buffer.Position = 0;
            context.Response.Body = original;
            await buffer.CopyToAsync(original, context.RequestAborted);
            if (path.StartsWith("/api/v3/", StringComparison.Ordinal))
                Contract.Record(method, path[7..], status, context.Response.ContentType, buffer.ToArray());
        }
        finally
        {
            _requests.Add(new RecordedRequest(method, path, context.Request.QueryString.Value ?? "",
                context.Request.Headers.IfNoneMatch.FirstOrDefault(), authorization.Split(' ')[0], context.Response.StatusCode, requestBody, arrived));
        }
    }

    // ---- issues ----

    private IResult ListIssues(HttpContext context, string? labels, string? state, int? page, int? per_page)
    {
        List<FakeIssue> matching;
        lock (_lock)
        {
            var wanted = (labels ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            matching = [.. _issues
                .Where(i => (state ?? "open") == "all" || i.State == (state ?? "open"))
                .Where(i => wanted.All(w => i.Labels.Contains(w, StringComparer.OrdinalIgnoreCase)))
                .OrderByDescending(i => i.Number)];
        }
        return Paged(context, [.. matching.Select(IssueWithPull)], page, per_page);
    }

    /// <summary>One page of a list, as GitHub pages: per_page (30 by default, at most <see cref="PageSizeLimit"/>) and a Link header.</summary>
    private IResult Paged(HttpContext context, IReadOnlyList<object> all, int? page, int? per_page)
    {
        var size = Math.Clamp(per_page ?? 30, 1, PageSizeLimit);
        var current = Math.Max(1, page ?? 1);
        var last = Math.Max(1, (all.Count + size - 1) / size);
        var body = JsonSerializer.Serialize(all.Skip((current - 1) * size).Take(size), Json);
        var links = new List<string>();
        if (current < last)
        {
            links.Add($"<{PageUrl(context, current + 1)}>; rel=\"next\"");
            links.Add($"<{PageUrl(context, last)}>; rel=\"last\"");
        }
        if (links.Count > 0)
            context.Response.Headers.Link = string.Join(", ", links);
        return Conditional(context, body);
    }

    private static string PageUrl(HttpContext context, int page)
    {
        var query = context.Request.Query.Where(q => q.Key != "page").Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value.ToString())}").Append($"page={page}");
        return $"{context.Request.Scheme}://{context.Request.Host}{context.Request.Path}?{string.Join('&', query)}";
    }

    /// <summary>Answers 304 when the client already holds this exact body (its ETag), as GitHub does.</summary>
    private static IResult Conditional(HttpContext context, string body)
    {
        var etag = $"W/\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..32]}\"";
        context.Response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch.Contains(etag))
            return Results.StatusCode(304);
        return Results.Text(body, "application/json");
    }

    // The shapes below are GitHub's (its OpenAPI description's required fields, checked by tests/github-contract).

    private string Api(string path) => $"{Url}api/v3/{path}";

    private object IssueJson(FakeIssue i) => new
    {
        id = i.Number * 10L,
        node_id = $"I_{i.Number}",
        number = i.Number,
        title = i.Title,
        body = i.Body,
        state = i.State,
        locked = false,
        html_url = $"https://github.example/{Repository}/issues/{i.Number}",
        url = Api($"repos/{Repository}/issues/{i.Number}"),
        repository_url = Api($"repos/{Repository}"),
        labels_url = Api($"repos/{Repository}/issues/{i.Number}/labels{{/name}}"),
        comments_url = Api($"repos/{Repository}/issues/{i.Number}/comments"),
        events_url = Api($"repos/{Repository}/issues/{i.Number}/events"),
        user = UserJson(i.Author),
        assignee = (object?)null,
        milestone = (object?)null,
        comments = CommentsOn(i.Number).Count,
        closed_at = (string?)null,
        author_association = i.AuthorAssociation,
        labels = i.Labels.Select(LabelJson),
        created_at = i.UpdatedAt,
        updated_at = i.UpdatedAt,
    };

    // GitHub leaves pull_request out of an issue that is not one, and gives it four URLs on one that is.
    private object IssueWithPull(FakeIssue i) => i.IsPullRequest
        ? new Dictionary<string, object?>(JsonSerializer.SerializeToElement(IssueJson(i), Json).Deserialize<Dictionary<string, object?>>()!)
        {
            ["pull_request"] = new
            {
                url = Api($"repos/{Repository}/pulls/{i.Number}"),
                html_url = $"https://github.example/{Repository}/pull/{i.Number}",
                diff_url = $"https://github.example/{Repository}/pull/{i.Number}.diff",
                patch_url = $"https://github.example/{Repository}/pull/{i.Number}.patch",
            },
        }
        : IssueJson(i);

    private object UserJson(string login) => UserJson(login, Uri.EscapeDataString(login));

    private object UserJson(string login, string escaped) => new
    {
        login,
        id = Math.Abs(login.GetHashCode()),
        node_id = $"U_{login}",
        type = login.EndsWith("[bot]", StringComparison.Ordinal) ? "Bot" : "User",
        site_admin = false,
        gravatar_id = "",
        avatar_url = $"https://avatars.github.example/{escaped}",
        url = Api($"users/{escaped}"),
        html_url = $"https://github.example/{escaped}",
        events_url = Api($"users/{escaped}/events{{/privacy}}"),
        followers_url = Api($"users/{escaped}/followers"),
        following_url = Api($"users/{escaped}/following{{/other_user}}"),
        gists_url = Api($"users/{escaped}/gists{{/gist_id}}"),
        organizations_url = Api($"users/{escaped}/orgs"),
        received_events_url = Api($"users/{escaped}/received_events"),
        repos_url = Api($"users/{escaped}/repos"),
        starred_url = Api($"users/{escaped}/starred{{/owner}}{{/repo}}"),
        subscriptions_url = Api($"users/{escaped}/subscriptions"),
    };

    /// <summary>
    /// Each user's permission on the repository ("admin", "maintain", "write", "triage", "read"), as its settings would
    /// give it; a user not listed reads it (a public repository). "maintainer" writes and "octocat" administers, as the
    /// webhook payloads the tests send say.
    /// </summary>
    public ConcurrentDictionary<string, string> Permissions { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["maintainer"] = "write",
        ["octocat"] = "admin",
    };

    /// <summary>GitHub's answer folds maintain into write and triage into read; role_name keeps the role.</summary>
    private IResult GetPermission(string username)
    {
        var role = Permissions.GetValueOrDefault(username, "read");
        var permission = role switch { "maintain" => "write", "triage" => "read", _ => role };
        var user = System.Text.Json.JsonSerializer.SerializeToNode(UserJson(username), Json)!.AsObject();
        user["role_name"] = role;
        user["permissions"] = new System.Text.Json.Nodes.JsonObject
        {
            ["admin"] = role == "admin", ["maintain"] = role is "admin" or "maintain", ["push"] = permission is "admin" or "write",
            ["triage"] = role != "read", ["pull"] = true,
        };
        return Results.Json(new { permission, role_name = role, user }, Json);
    }

    private object LabelJson(string name) => new
    {
        id = Math.Abs(name.GetHashCode()),
        node_id = $"L_{name}",
        url = Api($"repos/{Repository}/labels/{Uri.EscapeDataString(name)}"),
        name,
        description = (string?)null,
        color = "ededed",
        @default = false,
    };

    private static readonly DateTimeOffset Created = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private object RepositoryJson()
    {
        var repo = Api($"repos/{Repository}");
        return new Dictionary<string, object?>
        {
            ["id"] = 4242L, ["node_id"] = "R_4242", ["name"] = Name, ["full_name"] = Repository, ["owner"] = UserJson(Owner),
            ["private"] = false, ["fork"] = false, ["description"] = null, ["homepage"] = null, ["language"] = null, ["mirror_url"] = null,
            ["license"] = null, ["pushed_at"] = Created, ["created_at"] = Created, ["updated_at"] = Created,
            ["html_url"] = $"https://github.example/{Repository}", ["url"] = repo, ["clone_url"] = $"{GitBaseUrl}/{Repository}.git",
            ["git_url"] = $"git://github.example/{Repository}.git", ["ssh_url"] = $"git@github.example:{Repository}.git", ["svn_url"] = $"https://github.example/{Repository}",
            ["default_branch"] = "main", ["archived"] = false, ["disabled"] = false, ["size"] = 0,
            ["forks"] = 0, ["forks_count"] = 0, ["open_issues"] = 0, ["open_issues_count"] = 0, ["stargazers_count"] = 0, ["watchers"] = 0, ["watchers_count"] = 0,
            ["has_downloads"] = true, ["has_issues"] = true, ["has_projects"] = false, ["has_wiki"] = false, ["has_pages"] = false,
            ["archive_url"] = $"{repo}/{{archive_format}}{{/ref}}", ["assignees_url"] = $"{repo}/assignees{{/user}}", ["blobs_url"] = $"{repo}/git/blobs{{/sha}}",
            ["branches_url"] = $"{repo}/branches{{/branch}}", ["collaborators_url"] = $"{repo}/collaborators{{/collaborator}}", ["comments_url"] = $"{repo}/comments{{/number}}",
            ["commits_url"] = $"{repo}/commits{{/sha}}", ["compare_url"] = $"{repo}/compare/{{base}}...{{head}}", ["contents_url"] = $"{repo}/contents/{{+path}}",
            ["contributors_url"] = $"{repo}/contributors", ["deployments_url"] = $"{repo}/deployments", ["downloads_url"] = $"{repo}/downloads",
            ["events_url"] = $"{repo}/events", ["forks_url"] = $"{repo}/forks", ["git_commits_url"] = $"{repo}/git/commits{{/sha}}", ["git_refs_url"] = $"{repo}/git/refs{{/sha}}",
            ["git_tags_url"] = $"{repo}/git/tags{{/sha}}", ["hooks_url"] = $"{repo}/hooks", ["issue_comment_url"] = $"{repo}/issues/comments{{/number}}",
            ["issue_events_url"] = $"{repo}/issues/events{{/number}}", ["issues_url"] = $"{repo}/issues{{/number}}", ["keys_url"] = $"{repo}/keys{{/key_id}}",
            ["labels_url"] = $"{repo}/labels{{/name}}", ["languages_url"] = $"{repo}/languages", ["merges_url"] = $"{repo}/merges", ["milestones_url"] = $"{repo}/milestones{{/number}}",
            ["notifications_url"] = $"{repo}/notifications{{?since,all,participating}}", ["pulls_url"] = $"{repo}/pulls{{/number}}", ["releases_url"] = $"{repo}/releases{{/id}}",
            ["stargazers_url"] = $"{repo}/stargazers", ["statuses_url"] = $"{repo}/statuses/{{sha}}", ["subscribers_url"] = $"{repo}/subscribers",
            ["subscription_url"] = $"{repo}/subscription", ["tags_url"] = $"{repo}/tags", ["teams_url"] = $"{repo}/teams", ["trees_url"] = $"{repo}/git/trees{{/sha}}",
        };
    }

    private IResult WithIssue(int number, Func<FakeIssue, IResult> action)
    {
        lock (_lock)
        {
            var issue = _issues.SingleOrDefault(i => i.Number == number);
            return issue is null ? NotFound() : action(issue);
        }
    }

    private IResult ListComments(HttpContext context, int number, int? page, int? per_page)
    {
        List<object> comments;
        lock (_lock)
            comments = [.. _comments.Where(c => c.IssueNumber == number).Select(CommentJson)];
        return Paged(context, comments, page, per_page);
    }

    private object CommentJson(FakeComment c) => new
    {
        id = c.Id,
        node_id = $"IC_{c.Id}",
        body = c.Body,
        user = UserJson(c.Author),
        url = Api($"repos/{Repository}/issues/comments/{c.Id}"),
        issue_url = Api($"repos/{Repository}/issues/{c.IssueNumber}"),
        html_url = $"https://github.example/{Repository}/issues/{c.IssueNumber}#issuecomment-{c.Id}",
        author_association = "NONE",
        created_at = DateTimeOffset.UtcNow,
        updated_at = DateTimeOffset.UtcNow,
    };

    private async Task<IResult> CreateComment(int number, HttpRequest request)
    {
        var json = await ReadJson(request);
        lock (_lock)
        {
            if (_issues.All(i => i.Number != number))
                return NotFound();
            var comment = new FakeComment { Id = _nextCommentId++, IssueNumber = number, Body = json["body"]!.GetValue<string>(), Author = "orchestrator[bot]" };
            _comments.Add(comment);
            return Results.Json(CommentJson(comment), Json, statusCode: 201);
        }
    }

    private async Task<IResult> EditComment(long id, HttpRequest request)
    {
        var json = await ReadJson(request);
        lock (_lock)
        {
            var comment = _comments.SingleOrDefault(c => c.Id == id);
            if (comment is null)
                return NotFound();
            comment.Body = json["body"]!.GetValue<string>();
            comment.Edits++;
            return Results.Json(CommentJson(comment), Json);
        }
    }

    private async Task<IResult> AddLabels(int number, HttpRequest request)
    {
        var json = await ReadJson(request);
        var names = (json is JsonArray array ? array : json["labels"]!.AsArray()).Select(n => n!.GetValue<string>());
        lock (_lock)
        {
            var issue = _issues.SingleOrDefault(i => i.Number == number);
            if (issue is null)
                return NotFound();
            foreach (var name in names)
            {
                _labels.Add(name);
                if (!issue.Labels.Contains(name, StringComparer.OrdinalIgnoreCase))
                    issue.Labels.Add(name);
            }
            return Results.Json(issue.Labels.Select(LabelJson), Json);
        }
    }

    private IResult RemoveLabel(int number, string label)
    {
        lock (_lock)
        {
            var issue = _issues.SingleOrDefault(i => i.Number == number);
            if (issue is null || issue.Labels.RemoveAll(l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase)) == 0)
                return NotFound("Label does not exist");
            return Results.Json(issue.Labels.Select(LabelJson), Json);
        }
    }

    private IResult GetLabel(string label)
    {
        lock (_lock)
            return _labels.Contains(label) ? Results.Json(LabelJson(label), Json) : NotFound();
    }

    private async Task<IResult> CreateLabel(HttpRequest request)
    {
        var name = (await ReadJson(request))["name"]!.GetValue<string>();
        lock (_lock)
            return _labels.Add(name) ? Results.Json(LabelJson(name), Json, statusCode: 201) : Unprocessable("Validation Failed", new { resource = "Label", code = "already_exists", field = "name" });
    }

    // ---- git data ----

    /// <summary>
    /// The old path, as GitHub still answers it: the ref itself when the name is exact, else every ref that starts with
    /// it, as a list (so a lookup of <c>heads/issue-1</c> gets <c>[heads/issue-10, heads/issue-11]</c>).
    /// </summary>
    private async Task<IResult> GetRefsByPrefix(string reference)
    {
        if (await Git.ResolveAsync("refs/" + reference) is { } sha)
            return Results.Json(RefJson("refs/" + reference, sha), Json);
        var matching = new List<object>();
        foreach (var (name, target) in await Git.RefsAsync())
        {
            if (name.StartsWith("refs/" + reference, StringComparison.Ordinal))
                matching.Add(RefJson(name, target));
        }
        return matching.Count == 0 ? NotFound() : Results.Json(matching, Json);
    }

    private async Task<IResult> GetRef(string reference)
    {
        var sha = await Git.ResolveAsync("refs/" + reference);
        return sha is null ? NotFound() : Results.Json(RefJson("refs/" + reference, sha), Json);
    }

    private object RefJson(string reference, string sha) => new
    {
        @ref = reference,
        node_id = reference,
        url = $"{Url}api/v3/repos/{Repository}/git/{reference}",
        @object = new { sha, type = "commit", url = $"{Url}api/v3/repos/{Repository}/git/commits/{sha}" },
    };

    private async Task<IResult> CreateRef(HttpRequest request)
    {
        var json = await ReadJson(request);
        var reference = json["ref"]!.GetValue<string>();
        var sha = json["sha"]!.GetValue<string>();
        if (!reference.StartsWith("refs/", StringComparison.Ordinal) || reference.Count(c => c == '/') < 2)
            return Unprocessable("Reference name is invalid");
        if (await Git.ResolveAsync(reference) is not null)
            return Unprocessable("Reference already exists");
        if (!await Git.ExistsAsync(sha))
            return Unprocessable("Object does not exist");
        await Git.SetRefAsync(reference, sha);
        return Results.Json(RefJson(reference, sha), Json, statusCode: 201);
    }

    private async Task<IResult> UpdateRef(string reference, HttpRequest request)
    {
        var json = await ReadJson(request);
        var sha = json["sha"]!.GetValue<string>();
        var force = json["force"]?.GetValue<bool>() ?? false;
        var current = await Git.ResolveAsync("refs/" + reference);
        if (current is null)
            return Unprocessable("Reference does not exist");
        if (!await Git.ExistsAsync(sha))
            return Unprocessable("Object does not exist");
        if (!force && !await Git.IsAncestorAsync(current, sha))
            return Unprocessable("Update is not a fast forward");
        await Git.SetRefAsync("refs/" + reference, sha);
        return Results.Json(RefJson("refs/" + reference, sha), Json);
    }

    /// <summary>The repository has no commits, as GitHub's Git Data API sees it: 409 "Git Repository is empty."</summary>
    public bool EmptyRepository { get; set; }

    private async Task<IResult> GetCommit(string sha)
    {
        if (EmptyRepository)
            return Results.Json(new { message = "Git Repository is empty.", documentation_url = "https://docs.github.com/rest/git/commits#get-a-commit-object", status = "409" }, statusCode: 409);
        var commit = await Git.ReadCommitAsync(sha);
        return commit is null ? NotFound() : Results.Json(CommitJson(commit), Json);
    }

    private object CommitJson(CommitInfo c) => new
    {
        sha = c.Sha,
        node_id = $"C_{c.Sha}",
        url = Api($"repos/{Repository}/git/commits/{c.Sha}"),
        html_url = $"https://github.example/{Repository}/commit/{c.Sha}",
        author = new { name = c.Author.Name, email = c.Author.Email, date = c.Author.Date },
        committer = new { name = c.Committer.Name, email = c.Committer.Email, date = c.Committer.Date },
        message = c.Message,
        tree = new { sha = c.Tree, url = Api($"repos/{Repository}/git/trees/{c.Tree}") },
        parents = c.Parents.Select(p => new { sha = p, url = Api($"repos/{Repository}/git/commits/{p}"), html_url = $"https://github.example/{Repository}/commit/{p}" }),
        verification = new { verified = false, reason = "unsigned", signature = (string?)null, payload = (string?)null, verified_at = (string?)null },
    };

    /// <summary>A file at a ref: raw bytes for the raw media type, otherwise GitHub's JSON with base64 content.</summary>
    private async Task<IResult> GetContents(HttpRequest request, string path)
    {
        var reference = request.Query["ref"].FirstOrDefault() ?? "HEAD";
        var sha = await Git.ResolveAsync(reference);
        var bytes = sha is null ? null : await Git.ReadFileAsync(sha, path);
        if (bytes is null)
            return NotFound();
        if (request.Headers.Accept.Any(a => a?.Contains(".raw", StringComparison.Ordinal) == true))
            return Results.Bytes(bytes, "application/octet-stream");
        return Results.Json(new
        {
            type = "file", encoding = "base64", size = bytes.Length, name = Path.GetFileName(path), path,
            content = Convert.ToBase64String(bytes), sha = "", url = $"{Url}api/v3/repos/{Repository}/contents/{path}",
        }, Json);
    }

    private async Task<IResult> CreateBlob(HttpRequest request)
    {
        var json = await ReadJson(request);
        var content = json["content"]!.GetValue<string>();
        var bytes = json["encoding"]?.GetValue<string>() == "base64" ? Convert.FromBase64String(content) : Encoding.UTF8.GetBytes(content);
        var sha = await Git.WriteBlobAsync(bytes);
        return Results.Json(new { sha, url = $"{Url}api/v3/repos/{Repository}/git/blobs/{sha}" }, Json, statusCode: 201);
    }

    private async Task<IResult> CreateTree(HttpRequest request)
    {
        var json = await ReadJson(request);
        var baseTree = json["base_tree"]?.GetValue<string>();
        var entries = new List<(string, string, string?, string?)>();
        foreach (var entry in json["tree"]!.AsArray())
        {
            var item = entry!.AsObject();
            // GitHub deletes a path given "sha": null; a missing sha with no content is malformed.
            if (!item.ContainsKey("content") && !item.ContainsKey("sha"))
                return Unprocessable("tree item needs sha or content");
            entries.Add((item["path"]!.GetValue<string>(), item["mode"]!.GetValue<string>(), item["sha"]?.GetValue<string>(), item["content"]?.GetValue<string>()));
        }
        var sha = await Git.WriteTreeAsync(baseTree, entries);
        return Results.Json(new { sha, url = $"{Url}api/v3/repos/{Repository}/git/trees/{sha}", tree = Array.Empty<object>(), truncated = false }, Json, statusCode: 201);
    }

    private async Task<IResult> CreateCommit(HttpRequest request)
    {
        var json = await ReadJson(request);
        Signature Person(string key)
        {
            var person = json[key] ?? json["author"];
            return person is null
                ? new Signature("orchestrator[bot]", "bot@example.invalid", DateTimeOffset.UtcNow)
                : new Signature(person["name"]!.GetValue<string>(), person["email"]!.GetValue<string>(),
                    person["date"] is { } date ? DateTimeOffset.Parse(date.GetValue<string>(), CultureInfo.InvariantCulture) : DateTimeOffset.UtcNow);
        }
        var parents = json["parents"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        var sha = await Git.WriteCommitAsync(json["tree"]!.GetValue<string>(), parents, json["message"]!.GetValue<string>(), Person("author"), Person("committer"));
        return Results.Json(CommitJson((await Git.ReadCommitAsync(sha))!), Json, statusCode: 201);
    }

    // ---- pull requests ----

    private IResult ListPulls(HttpContext context, string? state, string? head, string? @base, int? page, int? per_page)
    {
        List<object> pulls;
        lock (_lock)
        {
            pulls = _missNextPullListing ? [] : [.. _pulls
                .Where(p => (state ?? "open") == "all" || p.State == (state ?? "open"))
                .Where(p => head is null || $"{Owner}:{p.Head}" == head)
                .Where(p => @base is null || p.Base == @base)
                .Select(PullJson)];
            _missNextPullListing = false;
        }
        return Paged(context, pulls, page, per_page);
    }

    private object PullJson(FakePullRequest p)
    {
        var url = Api($"repos/{Repository}/pulls/{p.Number}");
        var html = $"https://github.example/{Repository}/pull/{p.Number}";
        var issue = Api($"repos/{Repository}/issues/{p.Number}");
        object Link(string href) => new { href };
        object End(string branch) => new
        {
            label = $"{Owner}:{branch}",
            @ref = branch,
            sha = branch == p.Head ? p.HeadSha : new string('0', 40),
            repo = RepositoryJson(),
            user = UserJson(Owner),
        };
        return new Dictionary<string, object?>
        {
            ["id"] = p.Number * 10L, ["node_id"] = $"PR_{p.Number}", ["number"] = p.Number, ["title"] = p.Title, ["body"] = p.Body, ["state"] = p.State,
            ["draft"] = p.Draft, ["locked"] = false, ["html_url"] = html, ["url"] = url, ["issue_url"] = issue,
            ["diff_url"] = $"{html}.diff", ["patch_url"] = $"{html}.patch", ["commits_url"] = $"{url}/commits", ["comments_url"] = $"{issue}/comments",
            ["review_comments_url"] = $"{url}/comments", ["review_comment_url"] = Api($"repos/{Repository}/pulls/comments{{/number}}"),
            ["statuses_url"] = Api($"repos/{Repository}/statuses/{p.HeadSha}"),
            ["head"] = End(p.Head), ["base"] = End(p.Base), ["user"] = UserJson("orchestrator[bot]"),
            ["assignee"] = null, ["milestone"] = null, ["labels"] = Array.Empty<object>(), ["auto_merge"] = null, ["merged_by"] = null,
            ["author_association"] = "NONE", ["closed_at"] = null, ["merged_at"] = null, ["merge_commit_sha"] = null,
            ["created_at"] = DateTimeOffset.UtcNow, ["updated_at"] = DateTimeOffset.UtcNow,
            ["merged"] = false, ["mergeable"] = null, ["mergeable_state"] = "unknown", ["maintainer_can_modify"] = false,
            ["additions"] = 0, ["deletions"] = 0, ["changed_files"] = 0, ["commits"] = 1, ["comments"] = 0, ["review_comments"] = 0,
            ["_links"] = new Dictionary<string, object>
            {
                ["self"] = Link(url), ["html"] = Link(html), ["issue"] = Link(issue), ["comments"] = Link($"{issue}/comments"),
                ["review_comments"] = Link($"{url}/comments"), ["review_comment"] = Link(Api($"repos/{Repository}/pulls/comments{{/number}}")),
                ["commits"] = Link($"{url}/commits"), ["statuses"] = Link(Api($"repos/{Repository}/statuses/{p.HeadSha}")),
            },
        };
    }

    private IResult WithPull(int number, Func<FakePullRequest, IResult> action)
    {
        lock (_lock)
        {
            var pull = _pulls.SingleOrDefault(p => p.Number == number);
            return pull is null ? NotFound() : action(pull);
        }
    }

    private async Task<IResult> CreatePull(HttpRequest request)
    {
        var json = await ReadJson(request);
        var head = json["head"]!.GetValue<string>();
        var branch = head.Contains(':') ? head[(head.IndexOf(':') + 1)..] : head;
        if (await Git.ResolveAsync("refs/heads/" + branch) is not { } headSha)
            return Unprocessable("Validation Failed", new { resource = "PullRequest", field = "head", code = "invalid" });
        lock (_lock)
        {
            if (_pulls.Any(p => p.State == "open" && p.Head == branch))
                return Unprocessable("Validation Failed", new { resource = "PullRequest", code = "custom", message = $"A pull request already exists for {Owner}:{branch}." });
            var pull = new FakePullRequest
            {
                Number = _nextNumber++,
                Title = json["title"]!.GetValue<string>(),
                Body = json["body"]?.GetValue<string>() ?? "",
                Head = branch,
                Base = json["base"]!.GetValue<string>(),
                Draft = json["draft"]?.GetValue<bool>() ?? false,
                HeadSha = headSha,
            };
            _pulls.Add(pull);
            return Results.Json(PullJson(pull), Json, statusCode: 201);
        }
    }

    private async Task<IResult> UpdatePull(int number, HttpRequest request)
    {
        var json = await ReadJson(request);
        lock (_lock)
        {
            var pull = _pulls.SingleOrDefault(p => p.Number == number);
            if (pull is null)
                return NotFound();
            if (json["title"] is { } title)
                pull.Title = title.GetValue<string>();
            if (json["body"] is { } body)
                pull.Body = body.GetValue<string>();
            if (json["state"] is { } state)
                pull.State = state.GetValue<string>();
            pull.Edits++;
            return Results.Json(PullJson(pull), Json);
        }
    }

    // ---- GitHub App ----

    private IResult GetInstallation(HttpRequest request)
    {
        var app = VerifyAppJwt(request);
        return app is null ? Results.Json(new { message = "A JSON web token could not be decoded" }, statusCode: 401)
            : Results.Json(new
            {
                id = app.Value.InstallationId,
                app_id = app.Value.AppId,
                app_slug = "orchestrator",
                target_id = 4242L,
                target_type = "Organization",
                account = UserJson(Owner),
                single_file_name = (string?)null,
                repository_selection = "selected",
                access_tokens_url = Api($"app/installations/{app.Value.InstallationId}/access_tokens"),
                html_url = $"https://github.example/settings/installations/{app.Value.InstallationId}",
                repositories_url = Api("installation/repositories"),
                events = new[] { "issues", "issue_comment" },
                permissions = new { contents = "write", issues = "write", pull_requests = "write", metadata = "read" },
                created_at = DateTimeOffset.UtcNow,
                updated_at = DateTimeOffset.UtcNow,
                suspended_by = (object?)null,
                suspended_at = (string?)null,
            }, Json);
    }

    private IResult CreateInstallationToken(long id, HttpRequest request)
    {
        var app = VerifyAppJwt(request);
        if (app is null)
            return Results.Json(new { message = "A JSON web token could not be decoded" }, statusCode: 401);
        if (app.Value.InstallationId != id)
            return NotFound();
        var token = "ghs_" + Guid.NewGuid().ToString("N");
        lock (_lock)
        {
            _tokens.Add(token);
            InstallationTokensIssued++;
        }
        return Results.Json(new { token, expires_at = DateTimeOffset.UtcNow.AddHours(1) }, Json, statusCode: 201);
    }

    private (long AppId, long InstallationId)? VerifyAppJwt(HttpRequest request)
    {
        var (appId, key, installationId) = _gitHubApp ?? default;
        if (key is null || request.Headers.Authorization.ToString().Split(' ') is not ["Bearer", var jwt] || jwt.Split('.') is not [var h, var p, var s])
            return null;
        static byte[] Decode(string part) => Convert.FromBase64String(part.Replace('-', '+').Replace('_', '/').PadRight(part.Length + (4 - part.Length % 4) % 4, '='));
        if (!key.VerifyData(Encoding.ASCII.GetBytes($"{h}.{p}"), Decode(s), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            return null;
        var claims = JsonNode.Parse(Decode(p))!;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (claims["iss"]!.ToString() != appId.ToString(CultureInfo.InvariantCulture) || claims["exp"]!.GetValue<long>() < now
            || claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>() > 600)
            return null;
        return (appId, installationId);
    }

    // ---- helpers ----

    private static async Task<JsonNode> ReadJson(HttpRequest request) => (await JsonNode.ParseAsync(request.Body))!;

    private static IResult NotFound(string message = "Not Found") =>
        Results.Json(new { message, documentation_url = "https://docs.github.com/rest" }, statusCode: 404);

    /// <summary>GitHub's 422: a message, and for a failed validation the errors that say what failed.</summary>
    private static IResult Unprocessable(string message, params object[] errors) => errors.Length == 0
        ? Results.Json(new { message, documentation_url = "https://docs.github.com/rest", status = "422" }, statusCode: 422)
        : Results.Json(new { message, errors, documentation_url = "https://docs.github.com/rest", status = "422" }, statusCode: 422);

    /// <summary>Signs a webhook body the way GitHub does: "sha256=" + hex HMAC-SHA256 with the shared secret.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
            foreach (var hold in _allHolds)
                hold.Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
