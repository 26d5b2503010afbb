using System.Reflection;

namespace Orchestrator.Testing;

/// <summary>Where things are: the repository, built service hosts, the npm MCP servers.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>A fresh folder under the system temp folder, removed by the OS or the test command's cleanup.</summary>
    public static string NewTempDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "orchestrator-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Removes a test's folder, leaving what it may not remove: files an MCP server in a container wrote as its own user.</summary>
    public static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (UnauthorizedAccessException)
        {
            // The test command's temp folder goes away with the run.
        }
    }

    /// <summary>The built host of a service, e.g. Intake → services/Intake/Orchestrator.Intake.Host/bin/…/Orchestrator.Intake.Host.dll.</summary>
    public static string ServiceHostDll(string service)
    {
        var configuration = typeof(TestPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(RepositoryRoot, "services", service, $"Orchestrator.{service}.Host", "bin", configuration, "net10.0", $"Orchestrator.{service}.Host.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is not built: build Orchestrator.sln in {configuration} first");
    }

    /// <summary>
    /// The entry script of an npm MCP server installed by `npm ci` in one of the MCP server folders, for example
    /// ("services/ToolGateway/mcp-servers/filesystem", "@modelcontextprotocol/server-filesystem").
    /// </summary>
    public static string McpServerScript(string folder, string package, string script = "dist/index.js")
    {
        var path = Path.Combine(RepositoryRoot, folder, "node_modules", package, script);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run `npm ci --prefix {folder}` (scripts/test.sh does)");
    }

    public const string FilesystemServerFolder = "services/ToolGateway/mcp-servers/filesystem";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Orchestrator.sln not found above " + AppContext.BaseDirectory);
    }
}
