using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>Workspace sessions over RabbitMQ, with the real filesystem and git MCP servers in containers.</summary>
public sealed class WorkspaceTests
{
    [Fact]
    public async Task Filesystem_call_through_RabbitMQ_writes_and_reads_a_file_in_the_session_workspace()
    {
        await using var gateway = await TestGateway.StartAsync();
        var session = await gateway.OpenAsync();

        Assert.Equal("/workspace", session.WorkspaceRoot);
        Assert.Contains(session.Tools, t => t is { Server: "filesystem", Name: "write_file" });
        Assert.Contains(session.Tools, t => t is { Server: "git", Name: "git_status" });
        Assert.Contains(session.Tools, t => t is { Server: "everything", Name: "echo" });

        await gateway.CallTextAsync(session, "filesystem", "create_directory", new { path = "/workspace/notes" });
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = "/workspace/notes/hello.md", content = "Hello from a container\n" });

        var onDisk = Path.Combine(gateway.WorkspaceOf(session), "notes", "hello.md");
        Assert.Equal("Hello from a container\n", await File.ReadAllTextAsync(onDisk, TestContext.Current.CancellationToken));
        Assert.Contains("Hello from a container", await gateway.CallTextAsync(session, "filesystem", "read_text_file", new { path = "/workspace/notes/hello.md" }));
        // The git server, in its own container, sees the same workspace.
        Assert.Contains("notes/", await gateway.CallTextAsync(session, "git", "git_status", new { path = "/workspace" }));

        var changes = await gateway.WithClientAsync(c => c.CollectChangesAsync(session, TestContext.Current.CancellationToken));
        var file = Assert.Single(changes.Files);
        Assert.Equal(("notes/hello.md", FileChange.Added, "Hello from a container\n"), (file.Path, file.Change, file.Content));
        Assert.Equal(session.BaseCommit, changes.BaseCommit);
    }

    [Fact]
    public async Task Every_container_the_gateway_starts_is_hardened_and_labelled()
    {
        await using var gateway = await TestGateway.StartAsync();
        var session = await gateway.OpenAsync();
        await gateway.CallTextAsync(session, "everything", "echo", new { message = "hi" });

        var containers = await gateway.ContainersAsync();
        Assert.Equal(["everything", "filesystem", "git", "probe"],
            (await Task.WhenAll(containers.Select(Docker.InspectAsync))).Select(c => c.GetProperty("Config").GetProperty("Labels").GetProperty("org.orchestrator.server").GetString()).Order());
        foreach (var name in containers)
        {
            var container = await Docker.InspectAsync(name);
            var host = container.GetProperty("HostConfig");
            var config = container.GetProperty("Config");
            Assert.Equal("none", host.GetProperty("NetworkMode").GetString());
            Assert.True(host.GetProperty("ReadonlyRootfs").GetBoolean(), $"{name}: root filesystem is writable");
            Assert.True(host.GetProperty("Tmpfs").TryGetProperty("/tmp", out _), $"{name}: no tmpfs on /tmp");
            Assert.Contains("ALL", host.GetProperty("CapDrop").EnumerateArray().Select(c => c.GetString()));
            Assert.Contains("no-new-privileges", host.GetProperty("SecurityOpt").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(128L * 1024 * 1024, host.GetProperty("Memory").GetInt64());
            Assert.Equal(500_000_000L, host.GetProperty("NanoCpus").GetInt64());
            Assert.Equal(64, host.GetProperty("PidsLimit").GetInt64());
            Assert.True(host.GetProperty("Init").GetBoolean(), $"{name}: no init process");
            Assert.True(host.GetProperty("AutoRemove").GetBoolean(), $"{name}: not removed on exit");
            Assert.Equal("65534:65534", config.GetProperty("User").GetString());
            Assert.True(config.GetProperty("OpenStdin").GetBoolean());
            var labels = config.GetProperty("Labels");
            Assert.Equal(gateway.Deployment, labels.GetProperty("org.orchestrator.deployment").GetString());
            Assert.StartsWith("replica-1-", labels.GetProperty("org.orchestrator.replica").GetString());
            var server = labels.GetProperty("org.orchestrator.server").GetString();
            Assert.Equal(server == "everything" ? "shared" : session.SessionId.ToString(), labels.GetProperty("org.orchestrator.session").GetString());
            if (server != "everything")
            {
                var mounts = container.GetProperty("Mounts").EnumerateArray().ToList();
                var mount = Assert.Single(mounts, m => m.GetProperty("Type").GetString() == "bind");
                Assert.Equal(gateway.WorkspaceOf(session), mount.GetProperty("Source").GetString());
                Assert.Equal("/workspace", mount.GetProperty("Destination").GetString());
                // Only the git server sees the workspace's repository; the others an empty read-only folder in its place.
                var hidden = mounts.Where(m => m.GetProperty("Type").GetString() == "tmpfs" && m.GetProperty("Destination").GetString() == "/workspace/.git").ToList();
                Assert.Equal(server == "git" ? 0 : 1, hidden.Count);
                Assert.All(hidden, m => Assert.False(m.GetProperty("RW").GetBoolean()));
            }
        }
    }

    [Fact]
    public async Task Closing_a_session_removes_its_containers_and_its_workspace()
    {
        await using var gateway = await TestGateway.StartAsync();
        var session = await gateway.OpenAsync();
        Assert.Equal(3, (await gateway.ContainersAsync(session: session.SessionId)).Count);

        await gateway.WithClientAsync(async c => { await c.CloseWorkspaceAsync(session, TestContext.Current.CancellationToken); return 0; });

        // Removed before the close is answered, not eventually; the replica's shared server stays.
        Assert.Empty(await gateway.ContainersAsync(session: session.SessionId));
        Assert.Single(await gateway.ContainersAsync("everything"));
        Assert.False(Directory.Exists(gateway.SessionFolderOf(session)));
        var (_, failed) = await gateway.CallAsync(session, "filesystem", "list_directory", new { path = "/workspace" });
        Assert.Equal(ToolFailureReason.SessionLost, failed?.Reason);
    }

    [Fact]
    public async Task A_redelivered_open_gets_the_session_the_first_one_opened()
    {
        await using var gateway = await TestGateway.StartAsync();
        var correlationId = Guid.NewGuid();

        var sessions = await Task.WhenAll(gateway.OpenAsync(correlationId), gateway.OpenAsync(correlationId));

        Assert.Equal(sessions[0].SessionId, sessions[1].SessionId);
        Assert.Single(await gateway.ContainersAsync("filesystem"));
    }

    [Fact]
    public async Task Stopping_the_gateway_removes_every_container_it_started()
    {
        var gateway = await TestGateway.StartAsync();
        try
        {
            var session = await gateway.OpenAsync();
            await gateway.CallTextAsync(session, "everything", "echo", new { message = "hi" });
            Assert.Equal(4, (await gateway.ContainersAsync()).Count);
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        Assert.Empty(await gateway.ContainersAsync());
    }
}
