using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Orchestrator.ToolGateway.Launchers;
using Orchestrator.ToolGateway.Processes;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>How to start a sandbox container.</summary>
/// <param name="WorkspaceHostPath">The workspace folder as the Docker host sees it, mounted at <paramref name="WorkspaceMount"/>.</param>
/// <param name="User">uid:gid, never root: the owner of the workspace's files.</param>
/// <param name="Labels">The gateway's labels (deployment, replica, instance, session), so a sweep finds it like any server's container.</param>
public sealed record SandboxSpec(
    string Name,
    string Image,
    string WorkspaceHostPath,
    string WorkspaceMount,
    string User,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyDictionary<string, string> Labels,
    string Memory,
    string Cpus,
    int Pids);

/// <summary>
/// A container the agent's commands run in, through <c>docker exec</c> from the gateway (which alone holds the Docker
/// socket): hardened like the MCP servers' containers (read-only root with a scratch /tmp and home, no capabilities, no
/// privilege escalation, memory, CPU and process limits, a non-root user), no secret in its environment, and no network
/// once set up. Its writable parts go with it when it is removed.
/// </summary>
public sealed class Sandbox(SandboxSpec spec, DockerCli docker, ILogger logger) : IAsyncDisposable
{
    public const string Home = "/home/sandbox";
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(30);
    private const string PidMarker = "orchestrator-pid ";

    public SandboxSpec Spec => spec;
    public string Name => spec.Name;

    /// <summary>Starts the container on <paramref name="network"/> ("none" unless its setup may fetch dependencies).</summary>
    public async Task StartAsync(string network, CancellationToken cancellationToken)
    {
        var (uid, gid) = (spec.User.Split(':')[0], spec.User.Split(':').ElementAtOrDefault(1) ?? spec.User.Split(':')[0]);
        List<string> args =
        [
            "run", "--detach", "--interactive", "--init", "--pull", "never", "--name", spec.Name,
            .. spec.Labels.SelectMany(l => new[] { "--label", $"{l.Key}={l.Value}" }),
            "--network", network,
            "--read-only",
            "--tmpfs", "/tmp:rw,nosuid,size=1g,mode=1777",
            "--tmpfs", $"{Home}:rw,nosuid,size=1g,uid={uid},gid={gid},mode=0700",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", spec.Memory, "--memory-swap", spec.Memory, "--cpus", spec.Cpus,
            "--pids-limit", spec.Pids.ToString(CultureInfo.InvariantCulture),
            "--user", spec.User,
            "--mount", $"type=bind,source={spec.WorkspaceHostPath},target={spec.WorkspaceMount}",
            // As for every server but git: the workspace's repository is not the sandbox's to change.
            "--mount", $"type=tmpfs,destination={spec.WorkspaceMount}/.git,tmpfs-size=65536,readonly",
            "--workdir", spec.WorkspaceMount,
            "--env", $"HOME={Home}",
        ];
        // The repository's variables as arguments (they are its own, not secrets), never in the docker CLI's environment,
        // where a name such as DOCKER_HOST would steer the CLI itself.
        foreach (var (name, value) in spec.Environment)
            args.AddRange(["--env", $"{name}={value}"]);
        // Kept alive by a shell waiting on its open, never written, stdin: nothing but /bin/sh is needed in the image.
        args.AddRange(["--entrypoint", "/bin/sh", spec.Image, "-c", "read _"]);
        // Not cancelled midway: a container created after its `docker run` was killed would be left behind.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        cancellationToken.ThrowIfCancellationRequested();
        var result = await ChildProcess.RunAsync(DockerCli.Executable, args, DockerCli.BaseEnvironment(), limit.Token);
        if (result.ExitCode != 0)
            throw new SandboxException($"The sandbox did not start: {result.Error}");
    }

    /// <summary>Takes the container off <paramref name="network"/>: from then on it has only its loopback interface.</summary>
    public async Task DisconnectAsync(string network, CancellationToken cancellationToken)
    {
        if (network == "none")
            return;
        var result = await docker.RunAsync(["network", "disconnect", "--force", network, spec.Name], cancellationToken);
        if (result.ExitCode != 0)
            throw new SandboxException($"The sandbox could not be taken off the setup network {network}: {result.Error}");
    }

    /// <summary>
    /// Runs <paramref name="argv"/> in the sandbox, in <paramref name="workingDirectory"/>. At <paramref name="timeout"/>
    /// (or when cancelled) its whole process group is killed inside the container: the command is a process group
    /// leader there (<c>docker exec</c> makes it one), so its children go with it.
    /// </summary>
    public async Task<CommandResult> ExecAsync(IReadOnlyList<string> argv, string workingDirectory, TimeSpan timeout, int outputBytes,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(DockerCli.Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (name, value) in DockerCli.BaseEnvironment())
            start.Environment[name] = value;
        // The wrapper says its pid (the group's id) on stderr, then becomes the command.
        foreach (var arg in (string[])["exec", "--workdir", workingDirectory, spec.Name, "/bin/sh", "-c", $"echo \"{PidMarker}$$\" >&2; exec \"$@\"", "sh", .. argv])
            start.ArgumentList.Add(arg);

        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new SandboxException("docker exec could not be started");
        process.StandardInput.Close();
        var (stdout, stderr) = (new CommandOutput(outputBytes), new CommandOutput(outputBytes));
        var pid = new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.WhenAll(
            stdout.ReadFromAsync(process.StandardOutput.BaseStream, CancellationToken.None),
            ReadErrorsAsync(process.StandardError.BaseStream, stderr, pid));

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            await KillGroupAsync(pid.Task.IsCompleted ? await pid.Task : null);
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            await process.WaitForExitAsync(CancellationToken.None);
        }
        await reading.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        cancellationToken.ThrowIfCancellationRequested();
        return new CommandResult(timedOut ? -1 : process.ExitCode, Stopwatch.GetElapsedTime(started), timedOut, stdout.ToString(), stderr.ToString());
    }

    private async Task KillGroupAsync(int? pid)
    {
        if (pid is not { } group)
            return;
        var kill = await docker.RunAsync(["exec", spec.Name, "/bin/sh", "-c", $"kill -KILL -{group.ToString(CultureInfo.InvariantCulture)}"]);
        if (kill.ExitCode != 0)
            logger.LogWarning("Process group {Group} in sandbox {Sandbox} could not be killed: {Error}", group, spec.Name, kill.Error);
    }

    private static async Task ReadErrorsAsync(Stream errors, CommandOutput output, TaskCompletionSource<int?> pid)
    {
        var buffer = new byte[16 * 1024];
        var first = new List<byte>();
        int read;
        try
        {
            while ((read = await errors.ReadAsync(buffer)) > 0)
            {
                var bytes = buffer.AsSpan(0, read);
                if (!pid.Task.IsCompleted)
                {
                    var newline = bytes.IndexOf((byte)'\n');
                    first.AddRange((newline < 0 ? bytes : bytes[..newline]).ToArray());
                    if (newline < 0 && first.Count < 64)
                        continue;
                    var line = System.Text.Encoding.ASCII.GetString([.. first]);
                    pid.TrySetResult(line.StartsWith(PidMarker, StringComparison.Ordinal)
                        && int.TryParse(line[PidMarker.Length..], CultureInfo.InvariantCulture, out var p) ? p : null);
                    if (!line.StartsWith(PidMarker, StringComparison.Ordinal))
                        output.Write(first.ToArray());
                    bytes = newline < 0 ? [] : bytes[(newline + 1)..];
                }
                output.Write(bytes);
            }
        }
        finally
        {
            pid.TrySetResult(null);
        }
    }

    /// <summary>Leaves a mark in the sandbox's /tmp now: <see cref="ReadFileAsync"/> can then take only files written after it.</summary>
    public async Task<string> MarkAsync(CancellationToken cancellationToken)
    {
        var mark = $"/tmp/.orchestrator-mark-{Guid.NewGuid():N}";
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(HelperTimeout);
        var result = await docker.RunAsync(["exec", spec.Name, "/bin/sh", "-c", ": > \"$1\"", "sh", mark], limit.Token);
        return result.ExitCode == 0 ? mark : throw new SandboxException($"The sandbox could not be written to: {result.Error}");
    }

    /// <summary>
    /// A text file of the sandbox (e.g. a test report), read inside it by its shell: whatever the path or a link in it
    /// names, it is the sandbox's file, never one of the gateway's. Null when it is missing, was not written after
    /// <paramref name="newerThan"/> (a mark), or is larger than <paramref name="maxBytes"/>.
    /// </summary>
    public async Task<byte[]?> ReadFileAsync(string path, int maxBytes, CancellationToken cancellationToken, string? newerThan = null)
    {
        const string Read = """[ -f "$1" ] && { [ -z "$2" ] || [ "$1" -nt "$2" ]; } || exit 3; while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$1" """;
        // Bounded in time too: the file may be swapped for a pipe that never ends.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(HelperTimeout);
        try
        {
            var result = await ChildProcess.RunAsync(DockerCli.Executable, ["exec", spec.Name, "/bin/sh", "-c", Read, "sh", path, newerThan ?? ""],
                DockerCli.BaseEnvironment(), limit.Token, maxOutputBytes: maxBytes);
            return result.ExitCode != 0 || result.OutputCut ? null : result.Output;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await docker.RemoveAsync([spec.Name]);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            logger.LogWarning("Sandbox {Sandbox} could not be removed: {Error}", spec.Name, e.Message);
        }
    }
}
