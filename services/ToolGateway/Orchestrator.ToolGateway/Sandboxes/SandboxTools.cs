using System.ComponentModel;
using System.Text;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// The built-in <c>sandbox</c> server's tools: <c>run_command</c> and <c>run_tests</c>, each run with <c>docker exec</c> in
/// the workspace's sandbox by the gateway (which alone has the Docker socket), so the repository's image needs nothing
/// of ours: only /bin/sh.
/// </summary>
public sealed class SandboxTools(WorkspaceSandbox workspace, SandboxOptions options)
{
    public IEnumerable<McpServerTool> Create() =>
    [
        McpServerTool.Create(RunCommandAsync, new McpServerToolCreateOptions
        {
            Name = "run_command",
            Description = $"""
                Runs a shell command line (/bin/sh -c) in the workspace's sandbox: the repository's own environment, with no
                network and no secrets. Returns the exit code, the duration and the start and end of stdout and stderr. At
                the timeout (default {options.CommandTimeout.TotalSeconds:0} s, at most {options.CommandMaxTimeout.TotalSeconds:0} s)
                the command and every process it started are killed.
                """,
            ReadOnly = false,
            OpenWorld = false,
        }),
        McpServerTool.Create(RunTestsAsync, new McpServerToolCreateOptions
        {
            Name = "run_tests",
            Description = "Runs the repository's test command in the workspace's sandbox and reports how many tests passed and failed, which failed, and the end of the output.",
            ReadOnly = false,
            OpenWorld = false,
        }),
    ];

    private async Task<CallToolResult> RunCommandAsync(
        [Description("The command line, run by /bin/sh -c.")] string command,
        [Description("The working directory: a path inside the workspace (absolute, or relative to its root). Default: the root.")] string? cwd = null,
        [Description("Seconds before the command is killed.")] int? timeout_seconds = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(command) || command.Contains('\0', StringComparison.Ordinal))
            return Error("command must be a non-empty command line");
        if (WorkingDirectory(cwd) is not { } directory)
            return Error($"cwd must be a folder inside the workspace ({workspace.WorkspaceMount})");
        var timeout = timeout_seconds is { } s
            ? TimeSpan.FromSeconds(Math.Clamp(s, 1, (int)options.CommandMaxTimeout.TotalSeconds))
            : options.CommandTimeout;
        Sandbox sandbox;
        try
        {
            sandbox = await workspace.ReadyAsync(cancellationToken);
        }
        catch (SandboxException e)
        {
            return Error(e.Message);
        }
        var result = await sandbox.ExecAsync(["/bin/sh", "-c", command], directory, timeout, options.OutputBytes, cancellationToken);
        return new CallToolResult { Content = [new TextContentBlock { Text = result.Describe(timeout) }], IsError = !result.Succeeded };
    }

    private async Task<CallToolResult> RunTestsAsync(CancellationToken cancellationToken = default)
    {
        Sandbox sandbox;
        SandboxEnvironment environment;
        try
        {
            environment = await workspace.Environment.WaitAsync(cancellationToken);
            sandbox = await workspace.ReadyAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Error(e is SandboxException ? e.Message : $"The sandbox is not available: {e.Message}");
        }
        if (environment.Tests is not { } tests)
            return Error($"No test command is configured for this repository (test.command in {TestSettings.FileName} on the base branch, or SANDBOX_TEST_COMMAND).");
        var run = await TestRun.RunAsync(sandbox, tests, workspace.WorkspaceMount, options.OutputBytes, cancellationToken);
        var counts = run.Counts;
        var text = new StringBuilder()
            .AppendLine($"test command: {tests.Command}")
            .AppendLine(counts.FromResults
                ? $"tests: {counts.Passed} passed, {counts.Failed} failed, {counts.Skipped} skipped"
                : "no test results were written: the exit code decides")
            .AppendLine(string.Join('\n', run.Failing.Take(50).Select(f => $"FAILED {f}")))
            .Append(run.Result.Describe(tests.Timeout));
        return new CallToolResult { Content = [new TextContentBlock { Text = text.ToString() }], IsError = counts.Failed > 0 || !run.Result.Succeeded };
    }

    /// <summary>The folder inside the workspace the path names, or null when it leaves the workspace.</summary>
    private string? WorkingDirectory(string? path)
    {
        var root = workspace.WorkspaceMount.TrimEnd('/');
        if (string.IsNullOrWhiteSpace(path))
            return root;
        var relative = path.StartsWith('/') ? (path == root || path.StartsWith(root + "/", StringComparison.Ordinal) ? path[root.Length..] : null) : path;
        if (relative is null)
            return null;
        var parts = new List<string>();
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count == 0)
                    return null;
                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".")
                parts.Add(part);
        }
        return parts.Count == 0 ? root : $"{root}/{string.Join('/', parts)}";
    }

    private static CallToolResult Error(string message) => new() { Content = [new TextContentBlock { Text = message }], IsError = true };
}
