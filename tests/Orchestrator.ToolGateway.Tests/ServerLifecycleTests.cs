using System.Diagnostics;
using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>What happens to a server over its life: crashes, timeouts, idleness, a changing tool list, a failed start.</summary>
public sealed class ServerLifecycleTests
{
    [Fact]
    public async Task Killing_a_server_mid_call_fails_the_call_with_ServerCrashed_within_a_second_and_the_next_call_restarts_it()
    {
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Probe]);
        var session = await gateway.OpenAsync();
        var container = Assert.Single(await gateway.ContainersAsync("probe"));

        var call = gateway.CallAsync(session, "probe", "sleep", new { ms = 60_000 });
        await WaitUntilBusyAsync(gateway, session);
        var killed = Stopwatch.StartNew();
        await Docker.RunAsync("kill", container);
        var (_, failed) = await call;
        var elapsed = killed.Elapsed;

        Assert.Equal(ToolFailureReason.ServerCrashed, failed?.Reason);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"ServerCrashed arrived {elapsed.TotalMilliseconds:0} ms after the kill");

        Assert.Equal("again", await gateway.CallTextAsync(session, "probe", "echo", new { text = "again" }));
        var restarted = Assert.Single(await gateway.ContainersAsync("probe"));
        Assert.NotEqual(container, restarted);
    }

    [Fact]
    public async Task A_call_that_exceeds_its_timeout_fails_with_Timeout_and_the_server_is_told_to_cancel_it()
    {
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Probe], ("TOOL_CALL_TIMEOUT", "00:00:01"));
        var session = await gateway.OpenAsync();

        var (_, failed) = await gateway.CallAsync(session, "probe", "sleep", new { ms = 30_000 });

        Assert.Equal(ToolFailureReason.Timeout, failed?.Reason);
        // The probe records every notifications/cancelled it receives; the server is the same (it did not crash).
        var cancelled = JsonSerializer.Deserialize<JsonElement[]>(await gateway.CallTextAsync(session, "probe", "cancellations"))!;
        Assert.Single(cancelled);
        Assert.Single(await gateway.ContainersAsync("probe"));
    }

    [Fact]
    public async Task Every_kind_of_bad_call_gets_its_typed_failure()
    {
        var probe = TestCatalog.Probe with { Deny = ["environment"] };
        await using var gateway = await TestGateway.StartAsync([probe]);
        var session = await gateway.OpenAsync();

        Assert.DoesNotContain(session.Tools, t => t.Name == "environment");
        Assert.Equal(ToolFailureReason.Denied, (await gateway.CallAsync(session, "probe", "environment")).Failed?.Reason);
        Assert.Equal(ToolFailureReason.UnknownTool, (await gateway.CallAsync(session, "probe", "no_such_tool")).Failed?.Reason);
        Assert.Equal(ToolFailureReason.UnknownTool, (await gateway.CallAsync(session, "no-such-server", "echo")).Failed?.Reason);
        var invalid = (await gateway.CallAsync(session, "probe", "sleep", new { ms = "soon" })).Failed;
        Assert.Equal(ToolFailureReason.InvalidArguments, invalid?.Reason);
        Assert.Contains("'ms' must be a number", invalid?.Message);
        var notJson = await gateway.WithClientAsync(c => c.CallToolAsync(session, "probe", "echo", "[1, 2", TestContext.Current.CancellationToken));
        Assert.Equal(ToolFailureReason.InvalidArguments, notJson.Failed?.Reason);
        var unknownSession = session with { SessionId = Guid.NewGuid() };
        Assert.Equal(ToolFailureReason.SessionLost, (await gateway.CallAsync(unknownSession, "probe", "echo", new { text = "x" })).Failed?.Reason);
        // None of it hurt the server.
        Assert.Equal("still here", await gateway.CallTextAsync(session, "probe", "echo", new { text = "still here" }));
    }

    [Fact]
    public async Task A_server_that_announces_new_tools_has_them_listed_and_callable()
    {
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Probe]);
        var session = await gateway.OpenAsync();
        Assert.DoesNotContain(session.Tools, t => t.Name == "late_arrival");

        await gateway.CallTextAsync(session, "probe", "grow", new { name = "late_arrival" });

        var tools = await Testing.Eventually.Until(
            () => gateway.WithClientAsync(c => c.ListToolsAsync(session, TestContext.Current.CancellationToken)),
            c => c.Tools.Any(t => t.Name == "late_arrival"), TimeSpan.FromSeconds(5), "the new tool to be listed");
        Assert.Contains(tools.Tools, t => t.Name == "echo");
        Assert.Equal("called late_arrival", await gateway.CallTextAsync(session, "probe", "late_arrival"));
    }

    [Fact]
    public async Task An_idle_server_is_stopped_and_the_next_call_starts_it_again()
    {
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Probe], ("SERVER_IDLE_TIMEOUT", "00:00:01"));
        var session = await gateway.OpenAsync();
        var first = Assert.Single(await gateway.ContainersAsync("probe"));

        await Testing.Eventually.Until(() => gateway.ContainersAsync("probe"), c => c.Count == 0, TimeSpan.FromSeconds(10), "the idle server to stop");

        Assert.Equal("awake", await gateway.CallTextAsync(session, "probe", "echo", new { text = "awake" }));
        Assert.NotEqual(first, Assert.Single(await gateway.ContainersAsync("probe")));
    }

    [Fact]
    public async Task A_server_that_cannot_start_leaves_the_others_working_and_its_calls_fail_with_the_reason()
    {
        var missing = new TestServer("missing", "Workspace", "orchestrator-test/no-such-image:0");
        await using var gateway = await TestGateway.StartAsync([TestCatalog.Filesystem, missing]);
        var session = await gateway.OpenAsync();

        Assert.Contains(session.Tools, t => t.Server == "filesystem");
        Assert.DoesNotContain(session.Tools, t => t.Server == "missing");
        Assert.Contains("[DIR] .git", await gateway.CallTextAsync(session, "filesystem", "list_directory", new { path = "/workspace" }));
        var failed = (await gateway.CallAsync(session, "missing", "anything")).Failed;
        Assert.Equal(ToolFailureReason.ServerUnavailable, failed?.Reason);
        Assert.Contains("orchestrator-test/no-such-image:0 is not present and could not be pulled", failed?.Message);
        Assert.Contains(gateway.Gateway.Logs, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("no-such-image"));
    }

    // One connection carries many calls: the probe answers how many sleeps it holds while one is sleeping.
    private static Task WaitUntilBusyAsync(TestGateway gateway, WorkspaceOpened session) =>
        Testing.Eventually.Until(() => gateway.CallTextAsync(session, "probe", "pending"), n => n == "1", TimeSpan.FromSeconds(5), "the sleep to reach the server");
}
