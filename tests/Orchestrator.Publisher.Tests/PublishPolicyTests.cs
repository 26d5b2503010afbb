using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Publisher.Policy;

namespace Orchestrator.Publisher.Tests;

public sealed class PublishPolicyTests
{
    [Theory]
    [InlineData(".github/workflows/**", ".github/workflows/ci.yml", true)]
    [InlineData(".github/workflows/**", ".github/workflows/deep/x.yml", true)]
    [InlineData(".github/workflows/**", ".GitHub/Workflows/ci.yml", true)]
    [InlineData(".github/workflows/**", ".github/dependabot.yml", false)]
    [InlineData("**/*.pem", "certs/server.pem", true)]
    [InlineData("**/*.pem", "server.pem", true)]
    [InlineData("*.lock", "sub/yarn.lock", false)]
    [InlineData("docs/?.md", "docs/a.md", true)]
    public void Globs_match_whole_paths(string pattern, string path, bool matches) =>
        Assert.Equal(matches, PublishPolicy.Glob(pattern).IsMatch(path));

    [Fact]
    public void A_secret_already_in_a_modified_file_is_not_blamed_on_the_change()
    {
        var policy = Policy();
        var diff = """
            diff --git a/config.env b/config.env
            --- a/config.env
            +++ b/config.env
            @@ -1,2 +1,3 @@
             AWS_KEY=AKIAABCDEFGHIJKLMNOP
            +GREETING=hello
            """;
        var file = new ChangedFile("config.env", FileChange.Modified, "AWS_KEY=AKIAABCDEFGHIJKLMNOP\nGREETING=hello\n");

        Assert.Empty(policy.Check(Change([file], diff)));
        Assert.Equal(["`config.env` looks like it contains a secret (AWS access key)"], policy.Check(Change([file], diff.Replace(" AWS_KEY", "+AWS_KEY"))));
    }

    [Fact]
    public void Size_paths_and_keys_are_each_named()
    {
        var policy = Policy(maxFiles: 2, maxBytes: 10);
        var refusals = policy.Check(Change(
        [
            new ChangedFile("../outside.txt", FileChange.Added, "x"),
            new ChangedFile(".git/config", FileChange.Modified, "y"),
            new ChangedFile("key.pem", FileChange.Added, "-----BEGIN RSA PRIVATE KEY-----\nabc\n"),
        ], diff: null));

        Assert.Contains("the change touches 3 files; the limit is 2 (PUBLISH_MAX_FILES)", refusals);
        Assert.Contains(refusals, r => r.StartsWith("the change adds", StringComparison.Ordinal) && r.EndsWith("(PUBLISH_MAX_BYTES)", StringComparison.Ordinal));
        Assert.Contains("`../outside.txt` is not a plain relative path in the repository", refusals);
        Assert.Contains("`.git/config` is not a plain relative path in the repository", refusals);
        Assert.Contains("`key.pem` looks like it contains a secret (private key)", refusals);
    }

    private static PublishPolicy Policy(int maxFiles = 50, long maxBytes = 1_000_000) =>
        new(Options.Create(new PublisherOptions { MaxFiles = maxFiles, MaxBytes = maxBytes }));

    private static ChangesProposed Change(IReadOnlyList<ChangedFile> files, string? diff) =>
        new(Guid.NewGuid(), "acme/widgets", 1, "main", "abc", "orchestrator/issue-1", files, "Change", "Change", "Body", RunUsage.None, diff);
}
