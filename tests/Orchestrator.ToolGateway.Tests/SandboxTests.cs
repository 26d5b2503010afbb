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

    [Fact]
    public async Task A_repository_planted_in_a_submodule_folder_runs_nothing_in_the_git_server_nor_in_the_gateway()
    {
        await using var gateway = await TestGateway.StartAsync();
        var marks = Directory.CreateDirectory(Path.Combine(gateway.Directory, "marks")).FullName;
        // The submodule points at a commit the workspace has, so a repository planted in its folder can be "checked out" at it.
        string? pinned = null;
        gateway.ReplaceRepository(seed =>
        {
            pinned = seed.Write("README.md", "# Widgets\n").Commit("Initial commit");
            seed.Gitlink("lib/dep", pinned).Commit("With a submodule");
        });
        // The repository in the submodule's folder is written with the filesystem tool alone.
        var planted = PlantedSubmodule(pinned!, "../../../../.git/objects", marks);
        await PlantedSubmoduleIsLiveAsync(gateway, planted, marks);
        var session = await gateway.OpenAsync();
        foreach (var folder in new[] { "lib/dep/.git/objects/info", "lib/dep/.git/refs/heads" })
            await gateway.CallTextAsync(session, "filesystem", "create_directory", new { path = $"/workspace/{folder}" });
        foreach (var (path, content) in planted)
            await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = $"/workspace/{path}", content });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/README.md", content = "# Changed\n" });

        await gateway.CallAsync(session, "git", "git_status", new { path = "/workspace" });
        await gateway.CallAsync(session, "git", "git_add", new { path = "/workspace", paths = new[] { "lib/dep" } });
        await gateway.CallAsync(session, "git", "git_status", new { path = "/workspace" });
        await gateway.CallAsync(session, "git", "git_diff", new { path = "/workspace" });
        await gateway.CallAsync(session, "git", "git_status", new { path = "/workspace/lib/dep" });
        var changes = await gateway.WithClientAsync(c => c.CollectChangesAsync(session, TestContext.Current.CancellationToken));

        Assert.Empty(Directory.EnumerateFiles(marks));
        Assert.Empty(Directory.EnumerateFiles(gateway.WorkspaceOf(session), "pwned-*", SearchOption.AllDirectories));
        // The submodule's folder is not part of the change; the README is.
        Assert.Equal(["README.md"], changes.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task The_gateways_git_sealed_off_cannot_start_the_git_that_would_run_a_nested_repositorys_filter()
    {
        var folder = TestPaths.NewTempDirectory("sealed-git");
        var marks = Directory.CreateDirectory(Path.Combine(folder, "marks")).FullName;
        string? pinned = null, baseCommit = null;
        var bare = GitRepository.CreateBare(Path.Combine(folder, "repos"), "acme/widgets", "main", seed =>
        {
            pinned = seed.Write("README.md", "# Widgets\n").Commit("Initial commit");
            baseCommit = seed.Gitlink("lib/dep", pinned).Commit("With a submodule");
        });
        var work = Path.Combine(folder, "work");
        GitRepository.Run(folder, "clone", "--quiet", bare, work);
        var planted = PlantedSubmodule(pinned!, Path.Combine(work, ".git", "objects"), marks);
        foreach (var (path, content) in planted)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(work, path))!);
            await File.WriteAllTextAsync(Path.Combine(work, path), content, TestContext.Current.CancellationToken);
        }
        async Task<bool> AddRunsTheFilterAsync(bool sealedOff)
        {
            var index = Path.Combine(folder, $"index-{sealedOff}");
            var git = new Workspaces.Git(bare, work, index, sealedOff);
            await git.RunAsync(["read-tree", baseCommit!], TestContext.Current.CancellationToken);
            try
            {
                // Nothing excluded: the submodule's folder is looked into, as far as git can.
                await git.RunAsync(["add", "--all"], TestContext.Current.CancellationToken);
            }
            catch (Workspaces.GitException)
            {
            }
            var ran = File.Exists(Path.Combine(marks, "pwned-nested-filter"));
            foreach (var mark in Directory.EnumerateFiles(marks))
                File.Delete(mark);
            return ran;
        }

        Assert.True(await AddRunsTheFilterAsync(sealedOff: false), "the planted filter did not run under the gateway's git unsealed (the control)");
        Assert.False(await AddRunsTheFilterAsync(sealedOff: true), "the planted filter ran under the gateway's sealed-off git");
        TestPaths.DeleteDirectory(folder);
    }

    /// <summary>
    /// A repository in the submodule folder <c>lib/dep</c>, as text files: at the submodule's commit (its objects are
    /// <paramref name="objects"/>, by alternates), with a clean filter that is the payload and an index whose stale stat
    /// data makes any git that looks at it (status, add) run the filter.
    /// </summary>
    private static Dictionary<string, string> PlantedSubmodule(string pinned, string objects, string marks) => new()
    {
        ["lib/dep/.git/HEAD"] = pinned + "\n",
        ["lib/dep/.git/objects/info/alternates"] = objects + "\n",
        ["lib/dep/.git/refs/heads/.keep"] = "",
        ["lib/dep/.git/config"] = $"[core]\n\trepositoryformatversion = 0\n[filter \"x\"]\n\tclean = \"{Payload("nested-filter", marks)}; cat\"\n",
        ["lib/dep/.gitattributes"] = "f filter=x\n",
        ["lib/dep/f"] = "AAAA\n",
        ["lib/dep/.git/index"] = StaleIndexAsText("f", 5),
    };

    /// <summary>
    /// A git index holding one entry whose stat data matches nothing (so git compares the file's content, through its
    /// filter), made to be valid UTF-8 so a tool that writes text can write it: the mode's unused high bits make its
    /// bytes a UTF-8 sequence, and an optional extension is varied until the checksum is one too.
    /// </summary>
    private static string StaleIndexAsText(string path, int size)
    {
        var entry = new List<byte>();
        void Int(uint value) => entry.AddRange([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
        for (var i = 0; i < 6; i++)
            Int(0x41414141);                           // ctime, mtime, dev, ino: stale
        entry.AddRange([0xF0, 0x90, 0x81, 0xA4]);      // mode: a regular file (S_IFREG|0644 under the high bits)
        Int(0x41414141);
        Int(0x41414141);                               // uid, gid
        Int((uint)size);
        entry.AddRange(System.Text.Encoding.ASCII.GetBytes(new string('A', 20)));
        entry.AddRange([0, (byte)path.Length]);
        entry.AddRange(System.Text.Encoding.ASCII.GetBytes(path));
        entry.AddRange(new byte[8 - (62 + path.Length) % 8]);
        byte[] body = [.. "DIRC"u8, 0, 0, 0, 2, 0, 0, 0, 1, .. entry];
        var strict = new System.Text.UTF8Encoding(false, true);
        for (var i = 0; ; i++)
        {
            var data = System.Text.Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            byte[] withExtension = [.. body, .. "ZZZZ"u8, 0, 0, 0, (byte)data.Length, .. data];
            byte[] index = [.. withExtension, .. System.Security.Cryptography.SHA1.HashData(withExtension)];
            try
            {
                return strict.GetString(index);
            }
            catch (System.Text.DecoderFallbackException)
            {
            }
        }
    }

    /// <summary>The planted submodule is a working attack: in a clone on this machine, plain git's status runs its filter.</summary>
    private static async Task PlantedSubmoduleIsLiveAsync(TestGateway gateway, IReadOnlyDictionary<string, string> planted, string marks)
    {
        var control = Path.Combine(marks, "..", "submodule-control");
        GitRepository.Run(Path.GetDirectoryName(control)!, "clone", "--quiet", gateway.CloneUrl, control);
        foreach (var (path, content) in planted)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(control, path))!);
            await File.WriteAllTextAsync(Path.Combine(control, path), content);
        }
        Directory.CreateDirectory(Path.Combine(control, "lib/dep/.git/objects/info"));
        try
        {
            GitRepository.Run(control, "status");
        }
        catch (InvalidOperationException)
        {
            // It may complain after the filter has run; the mark says whether it did.
        }
        Assert.True(File.Exists(Path.Combine(marks, "pwned-nested-filter")), "the planted submodule's filter did not run under plain git");
        foreach (var mark in Directory.EnumerateFiles(marks))
            File.Delete(mark);
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
