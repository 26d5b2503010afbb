using System.Diagnostics;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Contracts;
using Orchestrator.Testing;
using Orchestrator.ToolGateway.Client;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>A git server that answers and then stalls: a clone must not hold a replica for ever, nor outlive its requester.</summary>
public sealed class CloneLimitTests
{
    [Fact]
    public async Task A_clone_from_a_server_that_stalls_fails_within_the_low_speed_time_and_leaves_nothing()
    {
        await using var server = await StallingGitServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(null, ("CLONE_LOW_SPEED_TIME", "00:00:03"), ("CLONE_TIMEOUT", "00:00:20"));
        var clock = Stopwatch.StartNew();

        var refused = await Assert.ThrowsAsync<WorkspaceNotOpenedException>(() => gateway.WithClientAsync(c => c.OpenWorkspaceAsync(
            new OpenWorkspace(Guid.NewGuid(), server.CloneUrl, "main", "orchestrator/test", TestGateway.Repository), TestContext.Current.CancellationToken)));

        Assert.Equal("clone-failed", refused.Reason);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the clone was given up after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.NotEmpty(server.Requests);
        Assert.Empty(Directory.Exists(gateway.WorkspacesPath) ? Directory.EnumerateFileSystemEntries(gateway.WorkspacesPath) : []);
        Assert.Empty(await gateway.ContainersAsync(server: "filesystem"));
    }

    [Fact]
    public async Task A_clone_is_abandoned_when_its_requester_stops_waiting_and_no_workspace_is_left_open()
    {
        await using var server = await StallingGitServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync(null, ("CLONE_LOW_SPEED_TIME", "00:05:00"), ("CLONE_TIMEOUT", "00:05:00"));
        var requests = gateway.Caller.Services.GetRequiredService<IClientFactory>().CreateRequestClient<OpenWorkspace>(RequestTimeout.After(s: 3));

        var open = requests.GetResponse<WorkspaceOpened, WorkspaceNotOpened>(
            new OpenWorkspace(Guid.NewGuid(), server.CloneUrl, "main", "orchestrator/test", TestGateway.Repository), TestContext.Current.CancellationToken);
        await server.Stalled.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(gateway.WorkspacesPath));
        await Assert.ThrowsAsync<RequestTimeoutException>(() => open);

        // The gateway gave up at the request's deadline too: git is gone (its connection closed) and so is the folder.
        await server.Abandoned.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await Eventually.Until(() => Task.FromResult(Directory.EnumerateFileSystemEntries(gateway.WorkspacesPath).Count()), n => n == 0,
            TimeSpan.FromSeconds(30), "the abandoned workspace's folder to be removed");
        Assert.Empty(await gateway.ContainersAsync(server: "filesystem"));
    }

    /// <summary>Answers git's first request with a byte, then nothing, until the client goes.</summary>
    private sealed class StallingGitServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private StallingGitServer(WebApplication app) => _app = app;

        public LockedList<string> Requests { get; } = new();
        public string CloneUrl { get; private set; } = "";
        public Task Stalled => _stalled.Task;
        public Task Abandoned => _abandoned.Task;

        public static async Task<StallingGitServer> StartAsync()
        {
            var app = LoopbackServer.Create();
            var server = new StallingGitServer(app);
            app.Map("/{**path}", async (HttpContext context) =>
            {
                server.Requests.Add(context.Request.Path + context.Request.QueryString);
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("0");
                await context.Response.Body.FlushAsync();
                server._stalled.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    server._abandoned.TrySetResult();
                }
            });
            server.CloneUrl = (await LoopbackServer.StartAsync(app)) + "acme/widgets.git";
            return server;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
