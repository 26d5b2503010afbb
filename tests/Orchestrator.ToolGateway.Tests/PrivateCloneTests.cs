using System.Text;
using Orchestrator.Contracts;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>
/// A private repository: the fake GitHub refuses git without a token, and the gateway clones with GIT_CLONE_TOKEN. The
/// token goes to git in its environment, as a header for that one URL; it must show nowhere else.
/// </summary>
public sealed class PrivateCloneTests
{
    [Fact]
    public async Task A_private_repository_is_cloned_with_the_read_token_which_shows_in_no_argument_file_container_or_message()
    {
        var token = "ghs_clone" + Guid.NewGuid().ToString("N");
        var secrets = new[] { token, Convert.ToBase64String(Encoding.UTF8.GetBytes($"x-access-token:{token}")) };
        var directory = TestPaths.NewTempDirectory("private-clone");
        var bare = GitRepository.CreateBare(Path.Combine(directory, "repos"), TestGateway.Repository, "main",
            new Dictionary<string, string> { ["README.md"] = "# Private widgets\n", ["src/a.txt"] = "a\n", ["src/b.txt"] = "b\n" });
        await using var gitHub = await FakeGitHub.StartAsync(TestGateway.Repository, bare, token);
        gitHub.PrivateRepository = true;
        // Each file git asks for takes a while, so that the clone is running while the machine's processes are read.
        gitHub.GitDelay = TimeSpan.FromMilliseconds(300);
        var cloneBase = gitHub.GitBaseUrl.ToString().TrimEnd('/');
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Filesystem], ("GIT_CLONE_TOKEN", token), ("GIT_CLONE_BASE_URL", cloneBase), ("REPOSITORIES", TestGateway.Repository));
        var sent = SentMessages.Watch(gateway.Gateway, gateway.Caller);

        using var scanning = new CancellationTokenSource();
        var scan = Task.Run(() => ScanProcesses(secrets, scanning.Token));
        var session = await gateway.WithClientAsync(c => c.OpenWorkspaceAsync(
            new OpenWorkspace(Guid.NewGuid(), $"{cloneBase}/{TestGateway.Repository}.git", "main", "orchestrator/test", TestGateway.Repository),
            TestContext.Current.CancellationToken));
        await scanning.CancelAsync();
        var (gitProcesses, leaks) = await scan;

        // Cloned, and the agent's tools see it.
        Assert.Equal("# Private widgets\n", await File.ReadAllTextAsync(Path.Combine(gateway.WorkspaceOf(session), "README.md"), TestContext.Current.CancellationToken));
        Assert.Contains("README.md", await gateway.CallTextAsync(session, "filesystem", "list_directory", new { path = "/workspace" }));
        // No argument list held it while git ran (and git did run while we looked).
        Assert.True(gitProcesses > 0, "no git process was seen during the clone");
        Assert.Empty(leaks);
        // No file of the session: not the workspace's .git/config, not the gateway's own repository.
        Assert.Empty(FilesHolding(gateway.SessionFolderOf(session), secrets));
        Assert.DoesNotContain("extraheader", await File.ReadAllTextAsync(Path.Combine(gateway.WorkspaceOf(session), ".git", "config"), TestContext.Current.CancellationToken),
            StringComparison.OrdinalIgnoreCase);
        // No container's environment, no message.
        foreach (var container in await gateway.ContainersAsync())
        {
            var inspected = (await Docker.InspectAsync(container)).ToString();
            Assert.DoesNotContain(secrets, inspected.Contains);
        }
        Assert.NotEmpty(sent.Texts);
        Assert.All(sent.Texts, text => Assert.DoesNotContain(secrets, text.Contains));
    }

    [Theory]
    [InlineData("victim-org/infra", false)]
    [InlineData(TestGateway.Repository, true)]
    public async Task The_token_is_sent_only_for_an_allowed_repository_from_the_configured_place(string repository, bool fromElsewhere)
    {
        var token = "ghs_clone" + Guid.NewGuid().ToString("N");
        var directory = TestPaths.NewTempDirectory("private-clone");
        var bare = GitRepository.CreateBare(Path.Combine(directory, "repos"), repository, "main", new Dictionary<string, string> { ["README.md"] = "#\n" });
        await using var gitHub = await FakeGitHub.StartAsync(repository, bare, token);
        gitHub.PrivateRepository = true;
        var cloneBase = gitHub.GitBaseUrl.ToString().TrimEnd('/');
        // Configured for another place than the one the request names, or for the request's place with a repository not allowed.
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Filesystem], ("GIT_CLONE_TOKEN", token),
            ("GIT_CLONE_BASE_URL", fromElsewhere ? "https://github.com" : cloneBase), ("REPOSITORIES", TestGateway.Repository));

        var refused = await Assert.ThrowsAsync<WorkspaceNotOpenedException>(() => gateway.WithClientAsync(c => c.OpenWorkspaceAsync(
            new OpenWorkspace(Guid.NewGuid(), $"{cloneBase}/{repository}.git", "main", "orchestrator/test", repository), TestContext.Current.CancellationToken)));

        Assert.Equal("clone-failed", refused.Reason);
        Assert.True(gitHub.AnonymousCloneAttempts > 0);
        Assert.DoesNotContain(gitHub.Requests, r => r.Authorization is { Length: > 0 });
    }

    /// <summary>Reads every process's argument list until cancelled: how many git processes it saw, and any that held a secret.</summary>
    private static (int GitProcesses, List<string> Leaks) ScanProcesses(string[] secrets, CancellationToken stop)
    {
        var seen = new HashSet<string>();
        var leaks = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            foreach (var folder in Directory.EnumerateDirectories("/proc"))
            {
                string command;
                try
                {
                    command = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }
                if (command.Contains("git", StringComparison.Ordinal) && command.Contains("clone", StringComparison.Ordinal) || command.Contains("remote-http", StringComparison.Ordinal))
                    seen.Add($"{Path.GetFileName(folder)} {command}");
                if (secrets.Any(command.Contains))
                    leaks.Add(command);
            }
        }
        return (seen.Count, leaks);
    }

    private static List<string> FilesHolding(string folder, string[] secrets) =>
        [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).Length < 10_000_000)
            .Where(f => secrets.Any(s => Encoding.Latin1.GetString(File.ReadAllBytes(f)).Contains(s, StringComparison.Ordinal)))];
}
