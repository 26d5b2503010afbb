using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Processes;
using Orchestrator.ToolGateway.Replicas;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// A repository's environment, as the base commit describes it: the image its sandboxes run, the variables and setup
/// commands they get, its test command, and notes for the agent (where the image came from, what is not supported).
/// </summary>
public sealed record SandboxEnvironment(
    string Image,
    string ImageId,
    IReadOnlyDictionary<string, string> Variables,
    IReadOnlyList<LifecycleCommand> Setup,
    TestSettings? Tests,
    IReadOnlyList<string> Notes)
{
    public string Describe() => string.Join('\n', Notes);
}

/// <summary>
/// Makes sandboxes: reads the repository's devcontainer.json and .orchestrator.yml from the base commit, finds or builds
/// the image (an image built from the repository's Dockerfile is tagged with a hash of its build context, so a second
/// work item on the same commit of those files starts from it), and starts containers set up and cut off from the network.
/// </summary>
public sealed class SandboxProvisioner(
    IOptions<SandboxOptions> options, IOptions<ToolGatewayOptions> gateway, DockerCli docker, DockerImages images, Replica replica,
    ILogger<SandboxProvisioner> logger)
{
    public const string ImageRepository = "orchestrator-sandbox";
    // Held in memory on its way to the engine.
    private const long MaxContextBytes = 128L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _building = new();

    public async Task<SandboxEnvironment> DescribeAsync(BaseCommitFiles files, CancellationToken cancellationToken)
    {
        var o = options.Value;
        List<string> notes = [];
        DevContainer? description = null;
        foreach (var location in DevContainer.Locations)
        {
            if (await files.ReadAsync(location, DevContainer.MaxBytes, cancellationToken) is not { } file)
                continue;
            try
            {
                description = file.Cut ? throw new SandboxException($"{location} is larger than {DevContainer.MaxBytes:N0} bytes")
                    : DevContainer.Parse(location, file.Text);
            }
            catch (SandboxException e)
            {
                notes.Add($"{e.Message}: the default image is used instead.");
            }
            break;
        }

        string? image = null;
        try
        {
            if (description?.Dockerfile is { } dockerfile)
            {
                image = await BuildAsync(files, description, cancellationToken);
                notes.Add($"Sandbox image built from {dockerfile} (context {(description.Context is "" ? "the repository's root" : description.Context)}), as {description.Path} says.");
            }
            else if (description?.Image is { } named)
            {
                await EnsureAsync(named, cancellationToken);
                image = named;
                notes.Add($"Sandbox image {named}, as {description.Path} says.");
            }
        }
        catch (SandboxException e)
        {
            // A Dockerfile that does not build, or an image that cannot be had, still leaves the agent a sandbox to work in.
            notes.Add($"{e.Message}: the default image is used instead.");
        }
        if (image is null)
        {
            await EnsureAsync(o.DefaultImage, cancellationToken);
            image = o.DefaultImage;
            if (description is null)
                notes.Add($"No devcontainer.json: the default sandbox image {image}.");
            else
                notes.Add($"Sandbox image {image} (the default).");
        }
        if (description is not null)
        {
            if (description.Unsupported.Count > 0)
                notes.Add($"Not supported, so not applied: {string.Join(", ", description.Unsupported)} (from {description.Path}).");
            if (description.RemoteUser is { } user)
                notes.Add($"remoteUser {user} is not applied: commands run as the workspace's owner, a non-root user, never as a user of the image.");
        }

        TestSettings? tests = null;
        if (await files.ReadAsync(TestSettings.FileName, TestSettings.MaxBytes, cancellationToken) is { } settings)
        {
            try
            {
                tests = settings.Cut ? throw new SandboxException($"{TestSettings.FileName} is larger than {TestSettings.MaxBytes:N0} bytes")
                    : TestSettings.Parse(settings.Text, o.TestTimeout);
            }
            catch (SandboxException e)
            {
                notes.Add(e.Message);
            }
        }
        if (tests is null && !string.IsNullOrWhiteSpace(o.TestCommand))
            tests = new TestSettings(o.TestCommand.Trim(), [], o.TestTimeout, "SANDBOX_TEST_COMMAND");
        notes.Add(tests is null ? "No test command is configured: run_tests cannot run and the change cannot be verified."
            : $"Test command (from {tests.Source}): {tests.Command}");

        var id = await docker.ImageIdAsync(image, cancellationToken) ?? throw new SandboxException($"The image {image} is gone from the engine");
        return new SandboxEnvironment(image, id, description?.ContainerEnv ?? new Dictionary<string, string>(), description?.Lifecycle ?? [], tests, notes);
    }

    private async Task EnsureAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await images.EnsureAsync(image, cancellationToken);
        }
        catch (ServerStartException e)
        {
            throw new SandboxException(e.Message, e);
        }
    }

    /// <summary>The image of the repository's Dockerfile, from the cache when its context is unchanged, else built (once at a time per context).</summary>
    private async Task<string> BuildAsync(BaseCommitFiles files, DevContainer description, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var context = description.Context;
        var dockerfile = description.Dockerfile!;
        var inContext = context == "" ? dockerfile : dockerfile.StartsWith(context + "/", StringComparison.Ordinal) ? dockerfile[(context.Length + 1)..] : null;
        if (inContext is null)
            throw new SandboxException($"{description.Path}: the Dockerfile {dockerfile} must be inside the build context {context}");
        var tree = await files.TreeAsync(context, cancellationToken)
            ?? throw new SandboxException($"{description.Path}: the build context {context} is not a folder of the repository");
        // The context's tree object is a hash of every file in it, the Dockerfile included.
        var key = new StringBuilder($"v1\n{tree}\n{inContext}\n{o.SetupNetwork}\n");
        foreach (var (name, value) in description.BuildArgs.OrderBy(a => a.Key, StringComparer.Ordinal))
            key.Append(name).Append('=').Append(value).Append('\n');
        var tag = $"{ImageRepository}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..24]}";

        var gate = _building.GetOrAdd(tag, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (await docker.ImageExistsAsync(tag, cancellationToken))
            {
                logger.LogInformation("Sandbox image {Image} is cached", tag);
                return tag;
            }
            var started = Stopwatch.GetTimestamp();
            var archive = await files.ArchiveAsync(context, MaxContextBytes, cancellationToken);
            List<string> args = ["build", "--quiet", "--network", o.SetupNetwork, "--file", inContext, "--tag", tag,
                "--label", $"{ContainerLabels.Deployment}={gateway.Value.DeploymentName}"];
            // The repository's build arguments as arguments (they are its own, not secrets), never in the docker CLI's
            // environment, where a name such as DOCKER_HOST would steer the CLI itself.
            foreach (var (name, value) in description.BuildArgs)
                args.AddRange(["--build-arg", $"{name}={value}"]);
            args.Add("-");
            var environment = DockerCli.BaseEnvironment();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(o.BuildTimeout);
            ChildProcessResult result;
            try
            {
                result = await ChildProcess.RunAsync(DockerCli.Executable, args, environment, limit.Token, input: archive, maxOutputBytes: 64 * 1024);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SandboxException($"Building {dockerfile} took longer than {o.BuildTimeout} (SANDBOX_BUILD_TIMEOUT)");
            }
            if (result.ExitCode != 0)
            {
                var error = result.Error.Length > 2_000 ? "…" + result.Error[^2_000..] : result.Error;
                throw new SandboxException($"Building {dockerfile} failed: {error}");
            }
            logger.LogInformation("Sandbox image {Image} built from {Dockerfile} in {Elapsed:0} ms (replica {Replica})",
                tag, dockerfile, Stopwatch.GetElapsedTime(started).TotalMilliseconds, replica.Id);
            await PruneAsync(tag);
            return tag;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Keeps the deployment's newest SANDBOX_IMAGES_KEEP images built from repositories and removes the others (every new
    /// base commit that changes a build context makes a new one). An image a sandbox still runs is not removed (the
    /// engine refuses), and is tried again after the next build.
    /// </summary>
    private async Task PruneAsync(string keep)
    {
        var listed = await docker.RunAsync(["image", "ls", "--filter", $"label={ContainerLabels.Deployment}={gateway.Value.DeploymentName}",
            "--format", "{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}", ImageRepository]);
        if (listed.ExitCode != 0)
            return;
        var old = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))
            .Where(l => l.Length == 2 && l[0] != keep)
            // "2026-11-29 16:55:01 +0000 UTC": sortable as text within one zone, which the engine uses for all.
            .OrderByDescending(l => l[1], StringComparer.Ordinal)
            .Skip(Math.Max(0, options.Value.ImagesKept - 1)).Select(l => l[0]).ToList();
        if (old.Count == 0)
            return;
        var removed = await docker.RunAsync(["image", "rm", .. old]);
        logger.LogInformation("Sandbox images pruned (SANDBOX_IMAGES_KEEP {Keep}): {Images}{Refused}", options.Value.ImagesKept, string.Join(", ", old),
            removed.ExitCode == 0 ? "" : $"; some are in use: {removed.Error}");
    }

    /// <summary>
    /// A sandbox on <paramref name="workspaceHostPath"/>, set up: started on the setup network, its lifecycle commands run
    /// (within SANDBOX_SETUP_TIMEOUT), then cut off. Returns it with what the setup said; a failed setup command is reported,
    /// not fatal (the agent can see and work around it). Removed again when it cannot be cut off.
    /// </summary>
    public async Task<(Sandbox Sandbox, IReadOnlyList<string> SetupNotes)> StartAsync(
        SandboxEnvironment environment, string workspaceHostPath, string user, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken,
        bool setupNetwork = true)
    {
        var o = options.Value;
        var name = $"{gateway.Value.DeploymentName}-sandbox-{Guid.NewGuid().ToString("N")[..12]}";
        var sandbox = new Sandbox(new SandboxSpec(name, environment.Image, workspaceHostPath, gateway.Value.ContainerWorkspacePath, user,
            environment.Variables, labels, o.Memory, o.Cpus, o.Pids), docker, logger);
        var network = environment.Setup.Count > 0 && setupNetwork ? o.SetupNetwork : "none";
        List<string> notes = [];
        try
        {
            await sandbox.StartAsync(network, cancellationToken);
            var deadline = Stopwatch.GetTimestamp();
            foreach (var command in environment.Setup)
            {
                var left = o.SetupTimeout - Stopwatch.GetElapsedTime(deadline);
                if (left <= TimeSpan.Zero)
                {
                    notes.Add($"{command.Name} did not run: the setup took longer than {o.SetupTimeout} (SANDBOX_SETUP_TIMEOUT).");
                    break;
                }
                var result = await sandbox.ExecAsync(command.Argv, gateway.Value.ContainerWorkspacePath, left, 2 * 1024, cancellationToken);
                if (!result.Succeeded)
                    notes.Add($"{command.Name} `{command}` failed:\n{result.Describe(left)}");
            }
            await sandbox.DisconnectAsync(network, cancellationToken);
            return (sandbox, notes);
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }
    }
}
