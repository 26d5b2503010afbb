using Orchestrator.Testing;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>The same catalog, on a machine without Docker: servers as child processes.</summary>
public sealed class ProcessLauncherTests
{
    [Fact]
    public async Task Servers_run_as_processes_in_the_workspace_with_only_their_own_environment()
    {
        var filesystem = TestCatalog.Filesystem with
        {
            Command = "node",
            Args = [TestPaths.McpServerScript(TestPaths.FilesystemServerFolder, "@modelcontextprotocol/server-filesystem"), "{workspace}"],
        };
        var probe = TestCatalog.Probe with
        {
            Command = "node",
            Args = [Path.Combine(TestPaths.RepositoryRoot, "tests", "mcp-servers", "probe", "probe.mjs")],
            Secrets = new Dictionary<string, string> { ["PROBE_TOKEN"] = "PROBE_SECRET" },
        };
        await using var gateway = await TestGateway.StartAsync([filesystem, probe], ("MCP_LAUNCHER", "Process"), ("PROBE_SECRET", "process-secret-value"));
        var session = await gateway.OpenAsync();

        var workspace = gateway.WorkspaceOf(session);
        Assert.Equal(workspace, session.WorkspaceRoot);
        await gateway.CallTextAsync(session, "filesystem", "write_file", new { path = Path.Combine(workspace, "hello.txt"), content = "hi" });
        Assert.Equal("hi", await File.ReadAllTextAsync(Path.Combine(workspace, "hello.txt"), TestContext.Current.CancellationToken));

        var environment = (await gateway.CallTextAsync(session, "probe", "environment")).Split('\n').Select(l => l.Split('=')[0]).Order();
        Assert.Equal(["PATH", "PROBE_TOKEN"], environment);
        Assert.Empty(await gateway.ContainersAsync());
    }
}
