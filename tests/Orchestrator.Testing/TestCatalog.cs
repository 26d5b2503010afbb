namespace Orchestrator.Testing;

/// <summary>One MCP server of a test catalog; <see cref="TestCatalog.Settings"/> turns a list of them into MCP_SERVERS:n:… settings.</summary>
public sealed record TestServer(string Name, string Scope, string Image, params string[] Args)
{
    public string? Command { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public string? WorkspaceGit { get; init; }
    public bool OneRepository { get; init; }
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Deny { get; init; } = [];

    /// <summary>A server the gateway provides itself ("Sandbox"): no image.</summary>
    public string? Builtin { get; init; }
}

public static class TestCatalog
{
    public const string FilesystemImage = "orchestrator/mcp-filesystem:2026.8.31";
    public const string GitImage = "orchestrator/mcp-git:2.15.3";
    public const string ProbeImage = "orchestrator-test/mcp-probe:1";
    public const string EverythingImage = "orchestrator-test/mcp-everything:2026.8.31";

    public static TestServer Filesystem => new("filesystem", "Workspace", FilesystemImage, "{workspace}");
    /// <summary>The git server as the default catalog (the ToolGateway host's appsettings.json) configures it: its environment and access to .git.</summary>
    public static TestServer Git => new("git", "Workspace", GitImage)
    {
        Environment = DefaultCatalogEntry("git").GetProperty("Environment").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
        WorkspaceGit = DefaultCatalogEntry("git").GetProperty("WorkspaceGit").GetString(),
    };
    public static TestServer Probe => new("probe", "Workspace", ProbeImage);
    public static TestServer Everything => new("everything", "Shared", EverythingImage);

    /// <summary>The built-in sandbox server (run_command, run_tests), as the default catalog has it.</summary>
    public static TestServer Sandbox => new("sandbox", "Workspace", "") { Builtin = "Sandbox" };

    /// <summary>The image tests give sandboxes by default: the host's node, git and /bin/sh (built by scripts/lib/infra.sh).</summary>
    public const string NodeImage = "orchestrator-test/node:20";

    /// <summary>The catalog most tests use: the default catalog's filesystem and git, the probe, and a shared server.</summary>
    public static IReadOnlyList<TestServer> Standard => [Filesystem, Git, Probe, Everything];

    public static IEnumerable<(string Key, string? Value)> Settings(IEnumerable<TestServer> servers)
    {
        foreach (var (server, i) in servers.Select((s, i) => (s, i)))
        {
            var at = $"MCP_SERVERS:{i}";
            yield return ($"{at}:Name", server.Name);
            yield return ($"{at}:Scope", server.Scope);
            if (server.Builtin is { } builtin)
            {
                yield return ($"{at}:Builtin", builtin);
                continue;
            }
            yield return ($"{at}:Image", server.Image);
            yield return ($"{at}:Command", server.Command);
            foreach (var (arg, j) in server.Args.Select((a, j) => (a, j)))
                yield return ($"{at}:Args:{j}", arg);
            foreach (var (variable, setting) in server.Secrets)
                yield return ($"{at}:Secrets:{variable}", setting);
            foreach (var (variable, value) in server.Environment)
                yield return ($"{at}:Environment:{variable}", value);
            if (server.OneRepository)
                yield return ($"{at}:OneRepository", "true");
            if (server.WorkspaceGit is { } git)
                yield return ($"{at}:WorkspaceGit", git);
            foreach (var (tool, j) in server.Deny.Select((t, j) => (t, j)))
                yield return ($"{at}:Tools:Deny:{j}", tool);
            yield return ($"{at}:Limits:Memory", "128m");
            yield return ($"{at}:Limits:Cpus", "0.5");
            yield return ($"{at}:Limits:Pids", "64");
        }
    }

    private static System.Text.Json.JsonElement DefaultCatalogEntry(string name)
    {
        using var settings = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(
            TestPaths.RepositoryRoot, "services", "ToolGateway", "Orchestrator.ToolGateway.Host", "appsettings.json")));
        return settings.RootElement.GetProperty("MCP_SERVERS").EnumerateArray().Single(s => s.GetProperty("Name").GetString() == name).Clone();
    }
}
