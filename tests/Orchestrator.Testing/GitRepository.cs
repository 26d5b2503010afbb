using System.Diagnostics;

namespace Orchestrator.Testing;

/// <summary>A real bare git repository on disk, with one commit on its default branch, to clone from as GitHub would serve it.</summary>
public static class GitRepository
{
    /// <summary>Creates "{root}/{owner}/{name}.git" with <paramref name="files"/> committed on <paramref name="branch"/>.</summary>
    public static string CreateBare(string root, string repository, string branch, IReadOnlyDictionary<string, string> files)
    {
        var bare = Path.Combine(root, repository + ".git");
        var seed = Path.Combine(root, ".seed", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(seed);
        Run(seed, "init", "--quiet", "--initial-branch", branch);
        foreach (var (path, content) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(seed, path))!);
            File.WriteAllText(Path.Combine(seed, path), content);
        }
        Run(seed, "add", "--all");
        Run(seed, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "--quiet", "-m", "Initial commit");
        Directory.CreateDirectory(Path.GetDirectoryName(bare)!);
        Run(root, "clone", "--quiet", "--bare", seed, bare);
        Directory.Delete(seed, recursive: true);
        return bare;
    }

    public static string Run(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"git {string.Join(' ', args)}: {error}");
    }
}
