using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ToolGateway.Launchers;

/// <summary>
/// Makes sure each catalog image is present, pulling it once if it is missing: containers then start with
/// <c>--pull never</c>, so no server start ever waits on a registry. Started for the whole catalog at start-up. A pull
/// that failed is not tried again for a while (IMAGE_PULL_RETRY_AFTER): every workspace would otherwise wait on the
/// registry in turn for a server that cannot start.
/// </summary>
public sealed class DockerImages(DockerCli docker, IOptions<ToolGatewayOptions> options, TimeProvider time, ILogger<DockerImages> logger) : IHostedService
{
    private static readonly TimeSpan PullTimeout = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<string, Lazy<Task>> _ready = new();
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, ServerStartException Error)> _failed = new();

    public Task EnsureAsync(string image, CancellationToken cancellationToken)
    {
        if (_failed.TryGetValue(image, out var failed) && time.GetUtcNow() - failed.At < options.Value.ImagePullRetryAfter)
            return Task.FromException(failed.Error);
        return _ready.GetOrAdd(image, i => new Lazy<Task>(() => PrepareAsync(i))).Value.WaitAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Launcher != LauncherKind.Docker)
            return Task.CompletedTask;
        foreach (var image in options.Value.Servers.Where(s => s.Builtin is null).Select(s => s.Image!).Distinct())
        {
            // A server start that needs the image logs its own warning; this one is for the start-up pull.
            _ = EnsureAsync(image, CancellationToken.None).ContinueWith(
                t => logger.LogWarning("{Reason}", t.Exception!.InnerException!.Message), CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task PrepareAsync(string image)
    {
        if (await docker.ImageExistsAsync(image, CancellationToken.None))
        {
            _failed.TryRemove(image, out _);
            return;
        }
        logger.LogInformation("Image {Image} is not present; pulling it", image);
        // A registry that hangs must not hold every server start of this image: the pull gets a time of its own.
        DockerResult pull;
        using (var limit = new CancellationTokenSource(PullTimeout))
        {
            try
            {
                pull = await docker.PullAsync(image, limit.Token);
            }
            catch (OperationCanceledException)
            {
                pull = new DockerResult(-1, "", $"no answer within {PullTimeout.TotalMinutes:0} min");
            }
        }
        if (pull.ExitCode != 0)
        {
            // Not for ever: a later start tries again (the image may have been built, or the registry come back).
            var error = new ServerStartException($"Image {image} is not present and could not be pulled: {pull.Error}");
            _failed[image] = (time.GetUtcNow(), error);
            _ready.TryRemove(image, out _);
            throw error;
        }
        logger.LogInformation("Pulled {Image}", image);
    }
}
