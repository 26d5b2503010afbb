using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.GitHub;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;

namespace Orchestrator.Publisher.Tests;

public sealed class GitHubAppTests
{
    private const long AppId = 4242;
    private const long InstallationId = 77;

    [Fact]
    public async Task Publisher_authenticates_as_a_GitHub_App_installation()
    {
        await using var rig = await PublisherRig.StartAsync();
        using var key = RSA.Create(2048);
        rig.GitHub.EnableApp(AppId, key, InstallationId);
        var keyPath = Path.Combine(rig.Directory, "app.pem");
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
        var issue = rig.GitHub.AddIssue("Add a greeting").Number;
        await rig.StartPublisherAsync(("GITHUB_TOKEN", null), ("GITHUB_APP_ID", AppId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("GITHUB_APP_PRIVATE_KEY_PATH", keyPath));

        await rig.Recorder.Publish(rig.Accepted(MassTransit.NewId.NextGuid(), issue));
        await rig.SingleCommentAsync(issue, b => b.Contains("accepted", StringComparison.Ordinal), "the status comment, written as the App");

        Assert.Equal(1, rig.GitHub.InstallationTokensIssued);
        var writes = rig.GitHub.Requests.Where(r => r.Path.Contains("/issues/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(writes);
        Assert.All(writes, r => Assert.Equal(("Bearer", 200), (r.Authorization, r.Status is 201 ? 200 : r.Status)));
    }

    [Fact]
    public async Task The_installation_token_is_reused_until_five_minutes_before_it_expires_then_replaced()
    {
        var directory = TestPaths.NewTempDirectory("app");
        var bare = GitRepository.CreateBare(directory, "acme/widgets", "main", new Dictionary<string, string> { ["a"] = "a" });
        await using var gitHub = await FakeGitHub.StartAsync("acme/widgets", bare, "unused");
        using var key = RSA.Create(2048);
        gitHub.EnableApp(AppId, key, InstallationId);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var store = new GitHubAppCredentialStore(new GitHubOptions
        {
            ApiUrl = gitHub.Url.ToString(),
            AppId = AppId,
            AppPrivateKey = key.ExportPkcs8PrivateKeyPem(),
            RepoOwner = "acme",
            RepoName = "widgets",
        }, clock, NullLogger.Instance);

        var first = await store.GetCredentials();
        clock.Advance(TimeSpan.FromMinutes(50));
        var reused = await store.GetCredentials();
        clock.Advance(TimeSpan.FromMinutes(6));
        var refreshed = await store.GetCredentials();

        Assert.Equal(first.Password, reused.Password);
        Assert.NotEqual(first.Password, refreshed.Password);
        Assert.StartsWith("ghs_", refreshed.Password);
        Assert.Equal(2, gitHub.InstallationTokensIssued);
        // The installation was looked up once, from REPO_OWNER/REPO_NAME.
        Assert.Single(gitHub.Requests, r => r.Path.EndsWith("/installation", StringComparison.Ordinal));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
