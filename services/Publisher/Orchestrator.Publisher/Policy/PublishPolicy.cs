using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher.Policy;

/// <summary>
/// What Publisher checks before it writes anything: no protected path, a bounded size, well-formed paths, and no secret
/// in what the change adds. Each refusal is a sentence for the status comment; a secret is named by kind and
/// place, never quoted.
/// </summary>
public sealed class PublishPolicy(IOptions<PublisherOptions> options)
{
    public IReadOnlyList<string> Check(ChangesProposed change)
    {
        var settings = options.Value;
        var refusals = new List<string>();
        if (change.Files.Count == 0)
            refusals.Add("the change has no files");
        if (change.Files.Count > settings.MaxFiles)
            refusals.Add($"the change touches {change.Files.Count} files; the limit is {settings.MaxFiles} (PUBLISH_MAX_FILES)");
        var bytes = change.Files.Sum(f => (long)Encoding.UTF8.GetByteCount(f.Content ?? ""));
        if (bytes > settings.MaxBytes)
            refusals.Add($"the change adds {bytes:N0} bytes; the limit is {settings.MaxBytes:N0} (PUBLISH_MAX_BYTES)");

        var protectedPaths = settings.ProtectedPathList.Select(p => (Pattern: p, Regex: Glob(p))).ToList();
        foreach (var file in change.Files)
        {
            if (!IsWellFormed(file.Path))
                refusals.Add($"`{file.Path}` is not a plain relative path in the repository");
            else if (protectedPaths.FirstOrDefault(p => p.Regex.IsMatch(file.Path)) is { Pattern: { } pattern })
                refusals.Add($"`{file.Path}` is a protected path ({pattern})");
        }

        foreach (var (place, kind) in FindSecrets(change))
            refusals.Add($"{place} looks like it contains a secret ({kind})");
        return refusals;
    }

    private static bool IsWellFormed(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && !path.Contains('\0')
        && path.Split('/').All(segment => segment is not ("" or "." or "..")) && !path.Split('/')[0].Equals(".git", StringComparison.OrdinalIgnoreCase);

    /// <summary>Lines the change adds: from the diff when there is one (so a secret already in the file is not blamed on us), else whole new files.</summary>
    private static IEnumerable<(string Place, string Kind)> FindSecrets(ChangesProposed change)
    {
        var found = new HashSet<(string, string)>();
        foreach (var (place, line) in AddedLines(change))
        {
            foreach (var kind in SecretPatterns.KindsIn(line))
                if (found.Add((place, kind)))
                    yield return (place, kind);
        }
    }

    private static IEnumerable<(string Place, string Line)> AddedLines(ChangesProposed change)
    {
        if (change.Diff is { Length: > 0 } diff)
        {
            var file = "the diff";
            foreach (var line in diff.Split('\n'))
            {
                if (line.StartsWith("+++ ", StringComparison.Ordinal))
                    file = $"`{line[4..].Trim().TrimStart('b').TrimStart('/')}`";
                else if (line.StartsWith('+'))
                    yield return (file, line[1..]);
            }
        }
        else
        {
            foreach (var file in change.Files.Where(f => f.Content is not null))
                foreach (var line in file.Content!.Split('\n'))
                    yield return ($"`{file.Path}`", line);
        }
        yield return ("the commit message", change.CommitMessage);
        foreach (var line in change.PullRequestBody.Split('\n'))
            yield return ("the pull request body", line);
    }

    /// <summary>A glob as a regex over the whole path: <c>**</c> spans folders, <c>*</c> and <c>?</c> stay within one.</summary>
    public static Regex Glob(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "dir/**" also matches "dir" itself and everything below; "**/x" matches x at any depth.
                var slashAfter = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slashAfter ? "(.*/)?" : ".*");
                i += slashAfter ? 2 : 1;
            }
            else if (c == '*')
                regex.Append("[^/]*");
            else if (c == '?')
                regex.Append("[^/]");
            else
                regex.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}
