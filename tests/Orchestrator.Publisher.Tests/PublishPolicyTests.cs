using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Publisher.GitHub;
using Orchestrator.Publisher.Policy;
using Orchestrator.ServiceDefaults;

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
    public async Task A_secret_in_a_file_is_found_whatever_the_diff_says()
    {
        var secret = "ghp_" + new string('b', 36);
        var file = new ChangedFile("notes.md", FileChange.Added, $"Some notes.\ntoken: {secret}\n");
        // The diff a hostile proposer sends need not show the file at all: the policy reads the file.
        var innocent = "diff --git a/notes.md b/notes.md\n+Some notes.\n";

        var refusals = await Policy().CheckAsync(Change([file], innocent), TestContext.Current.CancellationToken);

        Assert.Equal(["`notes.md` looks like it contains a secret (GitHub token)"], refusals);
    }

    [Fact]
    public async Task Secrets_in_binary_content_and_in_an_environment_block_are_found()
    {
        var token = "ghp_" + new string('c', 36);
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0, 0, 0xFF }.Concat(System.Text.Encoding.ASCII.GetBytes(token)).Concat(new byte[] { 0, 1 }).ToArray();
        var environ = $"PATH=/usr/bin\0GITHUB_TOKEN={token}\0HOME=/root\0";
        var utf16 = System.Text.Encoding.Unicode.GetBytes($"token = {token}\r\n");

        var refusals = await Policy().CheckAsync(Change(
        [
            new ChangedFile("logo.png", FileChange.Modified, null, GitFileMode.Regular, png),
            new ChangedFile("env.txt", FileChange.Added, environ),
            new ChangedFile("notes-utf16.txt", FileChange.Added, null, GitFileMode.Regular, utf16),
        ], diff: null) with { PullRequestTitle = $"Use {token}" }, TestContext.Current.CancellationToken);

        Assert.Contains("`logo.png` looks like it contains a secret (GitHub token)", refusals);
        Assert.Contains("`env.txt` looks like it contains a secret (GitHub token)", refusals);
        Assert.Contains("`notes-utf16.txt` looks like it contains a secret (GitHub token)", refusals);
        Assert.Contains("the pull request title looks like it contains a secret (GitHub token)", refusals);
    }

    [Fact]
    public async Task Symbolic_links_and_submodules_are_refused_unless_allowed()
    {
        ChangedFile[] files =
        [
            new("leak", FileChange.Added, "/proc/self/environ", GitFileMode.Symlink),
            new("vendor/lib", FileChange.Modified, "0123456789abcdef0123456789abcdef01234567", GitFileMode.Submodule),
            new("run.sh", FileChange.Modified, "#!/bin/sh\necho hi\n", GitFileMode.Executable),
        ];

        var refused = await Policy().CheckAsync(Change(files, diff: null), TestContext.Current.CancellationToken);
        var allowed = await Policy(allowLinks: true).CheckAsync(Change(files, diff: null), TestContext.Current.CancellationToken);

        Assert.Equal(
        [
            "`leak` is a symbolic link; links are not published (PUBLISH_ALLOW_SYMLINKS)",
            "`vendor/lib` is a submodule; submodule changes are not published (PUBLISH_ALLOW_SUBMODULES)",
        ], refused);
        Assert.Empty(allowed);
    }

    [Fact]
    public async Task Size_paths_and_keys_are_each_named()
    {
        var policy = Policy(maxFiles: 2, maxBytes: 10);
        var refusals = await policy.CheckAsync(Change(
        [
            new ChangedFile("../outside.txt", FileChange.Added, "x"),
            new ChangedFile(".git/config", FileChange.Modified, "y"),
            new ChangedFile("sub/.git/hooks/pre-commit", FileChange.Added, "y"),
            new ChangedFile("key.pem", FileChange.Added, "-----BEGIN RSA PRIVATE KEY-----\nabc\n"),
        ], diff: null), TestContext.Current.CancellationToken);

        Assert.Contains("the change touches 4 files; the limit is 2 (PUBLISH_MAX_FILES)", refusals);
        Assert.Contains(refusals, r => r.StartsWith("the change adds", StringComparison.Ordinal) && r.EndsWith("(PUBLISH_MAX_BYTES)", StringComparison.Ordinal));
        Assert.Contains("`../outside.txt` is not a plain relative path in the repository", refusals);
        Assert.Contains("`.git/config` is not a plain relative path in the repository", refusals);
        Assert.Contains("`sub/.git/hooks/pre-commit` is not a plain relative path in the repository", refusals);
        Assert.Contains("`key.pem` looks like it contains a secret (private key)", refusals);
    }

    [Theory]
    [InlineData("test/lib.test.js", "test('adds', () => {});\ntest.skip('subtracts', () => {});\n", "a skipped JavaScript test")]
    [InlineData("src/lib.spec.ts", "xit('works', () => {});\n", "a skipped JavaScript test")]
    [InlineData("test/lib.test.js", "test('slow', { skip: true }, () => {});\n", "a skipped JavaScript test")]
    [InlineData("tests/WidgetTests.cs", "[Fact(Skip = \"flaky\")]\npublic void Adds() { }\n", "a skipped .NET test")]
    [InlineData("tests/test_widgets.py", "@pytest.mark.skip(reason='later')\ndef test_adds(): pass\n", "a skipped Python test")]
    [InlineData("widgets_test.go", "func TestAdds(t *testing.T) {\n\tt.Skip(\"later\")\n}\n", "a skipped Go test")]
    [InlineData("ci/build.yml", "steps:\n  - run: make test\n    continue-on-error: true\n", "a CI step allowed to fail (continue-on-error)")]
    public async Task A_change_that_skips_tests_or_lets_CI_fail_is_refused(string path, string content, string kind)
    {
        var refusals = await Policy().CheckAsync(Change([new ChangedFile(path, FileChange.Added, content)], null), TestContext.Current.CancellationToken);

        Assert.Equal([$"`{path}` adds {kind}; weakening tests is not published (PUBLISH_ALLOW_TEST_WEAKENING)"], refusals);
    }

    [Fact]
    public async Task Deleting_a_test_file_is_refused_and_ordinary_code_that_merely_looks_alike_is_not()
    {
        var refusals = await Policy().CheckAsync(Change(
        [
            new ChangedFile("test/lib.test.js", FileChange.Deleted, null),
            new ChangedFile("tests/test_widgets.py", FileChange.Deleted, null),
            new ChangedFile("docs/old.md", FileChange.Deleted, null),
            // LINQ's Skip, a skip option outside tests, a word "ignore": none of them a skipped test.
            new ChangedFile("src/Paging.cs", FileChange.Added, "var page = items.Skip(10).Take(10); // [Ignore this]\n"),
            new ChangedFile("src/config.js", FileChange.Added, "module.exports = { skip: true };\n"),
        ], null), TestContext.Current.CancellationToken);

        Assert.Equal(
        [
            "`test/lib.test.js` is a test file and the change deletes it; deleting tests is not published (PUBLISH_ALLOW_TEST_WEAKENING)",
            "`tests/test_widgets.py` is a test file and the change deletes it; deleting tests is not published (PUBLISH_ALLOW_TEST_WEAKENING)",
        ], refusals);
        var allowed = new PublishPolicy(Options.Create(new PublisherOptions { AllowTestWeakening = true }), Options.Create(new ChangeLimits()),
            new DryRunForge(NullLogger<DryRunForge>.Instance));
        Assert.Empty(await allowed.CheckAsync(Change([new ChangedFile("test/lib.test.js", FileChange.Deleted, null)], null), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_hostile_line_as_long_as_the_change_is_checked_in_linear_time()
    {
        var line = string.Concat(Enumerable.Repeat("test(", 100_000)) + "\n";
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var refusals = await Policy().CheckAsync(Change([new ChangedFile("test/x.test.js", FileChange.Added, line)], null), TestContext.Current.CancellationToken);

        Assert.Empty(refusals);
        // Not a timing target: a backtracking pattern would take hours here, not seconds.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    private static PublishPolicy Policy(int maxFiles = 50, long maxBytes = 1_000_000, bool allowLinks = false) =>
        new(Options.Create(new PublisherOptions { AllowSymlinks = allowLinks, AllowSubmodules = allowLinks }),
            Options.Create(new ChangeLimits { MaxFiles = maxFiles, MaxBytes = maxBytes }),
            new DryRunForge(NullLogger<DryRunForge>.Instance));

    private static ChangesProposed Change(IReadOnlyList<ChangedFile> files, string? diff) =>
        new(Guid.NewGuid(), "acme/widgets", 1, "main", "abc", "orchestrator/issue-1", files, "Change", "Change", "Body", RunUsage.None, diff);
}
