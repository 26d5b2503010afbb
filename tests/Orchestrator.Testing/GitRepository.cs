using System.Diagnostics;

namespace Orchestrator.Testing;

/// <summary>A real bare git repository on disk, with one commit on its default branch, to clone from as GitHub would serve it.</summary>
public static class GitRepository
{
    /// <summary>Creates "{root}/{owner}/{name}.git" with <paramref name="files"/> committed on <paramref name="branch"/>.</summary>
    public static string CreateBare(string root, string repository, string branch, IReadOnlyDictionary<string, string> files) =>
        CreateBare(root, repository, branch, seed =>
        {
            foreach (var (path, content) in files)
                seed.Write(path, content);
            seed.Commit("Initial commit");
        });

    /// <summary>
    /// Creates "{root}/{owner}/{name}.git" whose <paramref name="branch"/> holds the commits <paramref name="history"/> makes
    /// (files with modes and bytes, symbolic links, deletions), oldest first.
    /// </summary>
    public static string CreateBare(string root, string repository, string branch, Action<Seed> history)
    {
        var bare = Path.Combine(root, repository + ".git");
        var seed = new Seed(Path.Combine(root, ".seed", Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(seed.Directory);
        Run(seed.Directory, "init", "--quiet", "--initial-branch", branch);
        history(seed);
        Directory.CreateDirectory(Path.GetDirectoryName(bare)!);
        Run(root, "clone", "--quiet", "--bare", seed.Directory, bare);
        Directory.Delete(seed.Directory, recursive: true);
        return bare;
    }

    /// <summary>The work tree a repository's history is written in.</summary>
    public sealed class Seed(string directory)
    {
        public string Directory { get; } = directory;

        public Seed Write(string path, string text, bool executable = false) => Write(path, System.Text.Encoding.UTF8.GetBytes(text), executable);

        public Seed Write(string path, byte[] bytes, bool executable = false)
        {
            var file = Place(path);
            File.WriteAllBytes(file, bytes);
            File.SetUnixFileMode(file, executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
            return this;
        }

        public Seed Link(string path, string target)
        {
            File.CreateSymbolicLink(Place(path), target);
            return this;
        }

        /// <summary>A submodule: the folder's entry is a commit of another repository (the folder itself stays empty).</summary>
        public Seed Gitlink(string path, string commit)
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, path));
            Run(Directory, "update-index", "--add", "--cacheinfo", $"160000,{commit},{path}");
            return this;
        }

        public Seed Delete(string path)
        {
            File.Delete(Path.Combine(Directory, path));
            return this;
        }

        /// <summary>Commits everything as it now is; returns the commit's SHA.</summary>
        public string Commit(string message)
        {
            Run(Directory, "add", "--all");
            Run(Directory, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "--quiet", "-m", message);
            return Run(Directory, "rev-parse", "HEAD").Trim();
        }

        private string Place(string path)
        {
            var file = Path.Combine(Directory, path);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            return file;
        }
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
