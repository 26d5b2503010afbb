using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>
/// The agent as an attacker: what it writes through its tools tries to run a command outside the sandbox (git
/// configuration, hooks, filters, a nested repository) or to publish a file from outside the workspace (symbolic links).
/// Real engine, real filesystem and git MCP servers.
/// </summary>
public sealed class SandboxTests
{
    // Where a planted command would leave its mark: the workspace (if it ran in any container that mounts it, or on the
    // gateway) and a folder only the gateway's machine has.
    private static string Payload(string name, string hostFolder) =>
        $"echo {name} >/workspace/pwned-{name}; echo {name} >{hostFolder}/pwned-{name}; echo {name} >pwned-{name}";

    private static string PlantedConfig(string hostFolder) => $"""
        [core]
        	repositoryformatversion = 0
        	filemode = true
        	bare = false
        	fsmonitor = "{Payload("fsmonitor", hostFolder)}"
        	pager = "{Payload("pager", hostFolder)}"
        [filter "evil"]
        	clean = "{Payload("clean", hostFolder)}"
        	smudge = "{Payload("smudge", hostFolder)}"
        [diff "evil"]
        	command = "{Payload("diffdriver", hostFolder)}"
        	textconv = "{Payload("textconv", hostFolder)}"
        [diff]
        	external = "{Payload("external", hostFolder)}"
        """;

    private static string Hook(string name, string hostFolder) => $"#!/bin/sh\n{Payload(name, hostFolder)}\n";

    [Fact]
    public async Task Git_configuration_hooks_and_filters_written_through_the_tools_never_run()
    {
        await using var gateway = await TestGateway.StartAsync();
        var marks = Directory.CreateDirectory(Path.Combine(gateway.Directory, "marks")).FullName;
        await PlantedConfigurationIsLiveAsync(marks);
        var session = await gateway.OpenAsync();
        var workspace = gateway.WorkspaceOf(session);

        // The workspace's own repository: the filesystem server sees an empty, read-only .git, so nothing lands there.
        var config = await gateway.CallAsync(session, "filesystem", "write_file", new { path = "/workspace/.git/config", content = PlantedConfig(marks) });
        var hook = await gateway.CallAsync(session, "filesystem", "write_file", new { path = "/workspace/.git/hooks/pre-commit", content = Hook("hook", marks) });
        var move = await gateway.CallAsync(session, "filesystem", "move_file", new { source = "/workspace/.git", destination = "/workspace/dotgit" });
        Assert.True(Refused(config), "writing .git/config through the filesystem tool succeeded");
        Assert.True(Refused(hook), "writing a hook through the filesystem tool succeeded");
        Assert.True(Refused(move), "moving .git away through the filesystem tool succeeded");
        Assert.DoesNotContain("pwned", await File.ReadAllTextAsync(Path.Combine(workspace, ".git", "config"), TestContext.Current.CancellationToken));

        // Attributes in the work tree name the planted drivers; a nested repository carries the whole planted config.
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/.gitattributes", content = "* filter=evil diff=evil\n" });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/README.md", content = "# Changed\n" });
        await gateway.CallTextAsync(session, "filesystem", "create_directory", new { path = "/workspace/sub/.git/objects" });
        await gateway.CallTextAsync(session, "filesystem", "create_directory", new { path = "/workspace/sub/.git/refs/heads" });
        await gateway.CallTextAsync(session, "filesystem", "create_directory", new { path = "/workspace/sub/.git/hooks" });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/sub/.git/HEAD", content = "ref: refs/heads/main\n" });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/sub/.git/config", content = PlantedConfig(marks) });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/sub/.git/hooks/pre-commit", content = Hook("nested-hook", marks) });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/sub/file.txt", content = "nested\n" });

        // The git tools, in the workspace and in the nested folder, and the gateway's own git collecting the changes.
        foreach (var path in new[] { "/workspace", "/workspace/sub" })
        {
            await gateway.CallAsync(session, "git", "git_status", new { path });
            await gateway.CallAsync(session, "git", "git_diff", new { path });
            await gateway.CallAsync(session, "git", "git_add", new { path, paths = new[] { "." } });
            await gateway.CallAsync(session, "git", "git_diff", new { path, staged = true });
            await gateway.CallAsync(session, "git", "git_commit", new { path, message = "Planted" });
            await gateway.CallAsync(session, "git", "git_checkout", new { path, target = "main", paths = new[] { "README.md" } });
        }
        var changes = await gateway.WithClientAsync(c => c.CollectChangesAsync(session, TestContext.Current.CancellationToken));

        Assert.Empty(Directory.EnumerateFiles(marks));
        Assert.Empty(Directory.EnumerateFiles(workspace, "pwned-*", SearchOption.AllDirectories));
        // The work went on: the changes are the work tree's files, read by git as data (the README was restored from main by
        // the last checkout); the nested repository is not part of them.
        var file = Assert.Single(changes.Files);
        Assert.Equal(new ChangedFile(".gitattributes", FileChange.Added, "* filter=evil diff=evil\n"), file);
    }

    [Fact]
    public async Task A_repository_configuration_planted_past_the_sandbox_is_never_read_by_the_gateway()
    {
        await using var gateway = await TestGateway.StartAsync();
        var marks = Directory.CreateDirectory(Path.Combine(gateway.Directory, "marks")).FullName;
        var session = await gateway.OpenAsync();
        var workspace = gateway.WorkspaceOf(session);

        // As if a container had got past its sandbox: the workspace's repository rewritten on the host itself.
        await File.AppendAllTextAsync(Path.Combine(workspace, ".git", "config"), "\n" + PlantedConfig(marks), TestContext.Current.CancellationToken);
        foreach (var name in new[] { "pre-commit", "post-checkout", "pre-auto-gc", "post-index-change", "reference-transaction" })
        {
            var hook = Path.Combine(workspace, ".git", "hooks", name);
            Directory.CreateDirectory(Path.GetDirectoryName(hook)!);
            await File.WriteAllTextAsync(hook, Hook(name, marks), TestContext.Current.CancellationToken);
            File.SetUnixFileMode(hook, (UnixFileMode)0b111_101_101);
        }
        await File.WriteAllTextAsync(Path.Combine(workspace, ".gitattributes"), "* filter=evil diff=evil\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(workspace, "README.md"), "# Changed\n", TestContext.Current.CancellationToken);

        var changes = await gateway.WithClientAsync(c => c.CollectChangesAsync(session, TestContext.Current.CancellationToken));

        Assert.Empty(Directory.EnumerateFiles(marks));
        Assert.Empty(Directory.EnumerateFiles(workspace, "pwned-*", SearchOption.AllDirectories));
        Assert.Equal("# Changed\n", Assert.Single(changes.Files, f => f.Path == "README.md").Content);
        Assert.Contains("+# Changed", changes.Diff);
    }

    [Fact]
    public async Task A_symbolic_link_restored_from_history_is_collected_as_a_link_never_as_what_it_points_at()
    {
        await using var gateway = await TestGateway.StartAsync();
        var secretFile = Path.Combine(gateway.Directory, "gateway-secret.txt");
        await File.WriteAllTextAsync(secretFile, "GITHUB_TOKEN=ghp_" + new string('z', 36), TestContext.Current.CancellationToken);
        string? withLinks = null;
        gateway.ReplaceRepository(seed =>
        {
            seed.Write("README.md", "# Widgets\n");
            withLinks = seed.Link("environ", "/proc/self/environ").Link("secret.txt", secretFile).Commit("Links");
            seed.Delete("environ").Delete("secret.txt").Commit("No links");
        });
        var session = await gateway.OpenAsync();

        // The agent brings the links back with a git tool.
        await gateway.CallTextAsync(session, "git", "git_checkout", new { path = "/workspace", target = withLinks, paths = new[] { "environ", "secret.txt" } });
        Assert.Equal("/proc/self/environ", new FileInfo(Path.Combine(gateway.WorkspaceOf(session), "environ")).LinkTarget);

        var changes = await gateway.WithClientAsync(c => c.CollectChangesAsync(session, TestContext.Current.CancellationToken));

        Assert.Equal(
        [
            new ChangedFile("environ", FileChange.Added, "/proc/self/environ", GitFileMode.Symlink),
            new ChangedFile("secret.txt", FileChange.Added, secretFile, GitFileMode.Symlink),
        ], changes.Files.OrderBy(f => f.Path, StringComparer.Ordinal));
        Assert.DoesNotContain("ghp_", changes.Diff);
        Assert.DoesNotContain("RABBITMQ_URL", changes.Diff);
    }

    private static bool Refused((ToolCallCompleted? Completed, ToolCallFailed? Failed) call) => call.Failed is not null || call.Completed!.IsError;

    /// <summary>
    /// The planted configuration is a working attack: in a repository of its own on this machine, plain git runs it. (So the
    /// tests above pass because the sandbox holds, not because the payload is broken.)
    /// </summary>
    private static async Task PlantedConfigurationIsLiveAsync(string marks)
    {
        var control = Path.Combine(marks, "..", "control");
        Directory.CreateDirectory(control);
        GitRepository.Run(control, "init", "--quiet");
        await File.WriteAllTextAsync(Path.Combine(control, ".git", "config"), PlantedConfig(marks));
        await File.WriteAllTextAsync(Path.Combine(control, ".gitattributes"), "* filter=evil diff=evil\n");
        await File.WriteAllTextAsync(Path.Combine(control, "a.txt"), "a\n");
        GitRepository.Run(control, "add", "--all");
        Assert.True(File.Exists(Path.Combine(marks, "pwned-fsmonitor")), "the planted fsmonitor did not run under plain git");
        Assert.True(File.Exists(Path.Combine(marks, "pwned-clean")), "the planted clean filter did not run under plain git");
        foreach (var mark in Directory.EnumerateFiles(marks))
            File.Delete(mark);
    }
}
