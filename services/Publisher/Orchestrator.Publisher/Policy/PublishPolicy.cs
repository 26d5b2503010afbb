using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchestrator.Contracts;
using Orchestrator.Publisher.GitHub;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher.Policy;

/// <summary>
/// What Publisher checks before it writes anything, on what it would write (the files), never on what it is told about
/// them (the diff): no protected path, a bounded size, well-formed paths, no symbolic link or submodule unless allowed,
/// and no secret in any file's content, the commit message or the pull request body. A secret-looking line that the file
/// already had at the base commit (read from GitHub, not from the message) is not blamed on the change. Each refusal is
/// a sentence for the status comment; a secret is named by kind and place, never quoted.
/// </summary>
public sealed class PublishPolicy(IOptions<PublisherOptions> options, IOptions<ChangeLimits> limits, IForge forge)
{
    public async Task<IReadOnlyList<string>> CheckAsync(ChangesProposed change, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var max = limits.Value;
        var refusals = new List<string>();
        if (change.Files.Count == 0)
            refusals.Add("the change has no files");
        if (change.Files.Count > max.MaxFiles)
            refusals.Add($"the change touches {change.Files.Count} files; the limit is {max.MaxFiles} (PUBLISH_MAX_FILES)");
        var bytes = change.Files.Sum(Size);
        if (bytes > max.MaxBytes)
            refusals.Add($"the change adds {bytes:N0} bytes; the limit is {max.MaxBytes:N0} (PUBLISH_MAX_BYTES)");

        var protectedPaths = settings.ProtectedPathList.Select(p => (Pattern: p, Regex: Glob(p))).ToList();
        foreach (var file in change.Files)
        {
            if (!IsWellFormed(file.Path))
                refusals.Add($"{DisplayText.Path(file.Path)} is not a plain relative path in the repository");
            else if (protectedPaths.FirstOrDefault(p => p.Regex.IsMatch(file.Path)) is { Pattern: { } pattern })
                refusals.Add($"{DisplayText.Path(file.Path)} is a protected path ({pattern})");
            else if (file.Change != FileChange.Deleted && file.Mode == GitFileMode.Symlink && !settings.AllowSymlinks)
                refusals.Add($"{DisplayText.Path(file.Path)} is a symbolic link; links are not published (PUBLISH_ALLOW_SYMLINKS)");
            else if (file.Mode == GitFileMode.Submodule && !settings.AllowSubmodules)
                refusals.Add($"{DisplayText.Path(file.Path)} is a submodule; submodule changes are not published (PUBLISH_ALLOW_SUBMODULES)");
        }

        await foreach (var (place, kind) in FindSecretsAsync(change, cancellationToken))
            refusals.Add($"{place} looks like it contains a secret ({kind})");
        if (!settings.AllowTestWeakening)
            refusals.AddRange(await TestWeakening.FindAsync(change, BaseLinesAsync, cancellationToken));
        return refusals;
    }

    /// <summary>The lines a changed file had at the base commit (read from GitHub, not from the message), or none.</summary>
    private async Task<HashSet<string>> BaseLinesAsync(ChangesProposed change, ChangedFile file, CancellationToken cancellationToken)
    {
        if (file.Change != FileChange.Modified || !IsWellFormed(file.Path))
            return [];
        var before = await forge.ReadFileAsync(change.Repository, change.BaseCommit, file.Path,
            (int)Math.Min(int.MaxValue, Math.Max(Size(file) * 2, 1024 * 1024)), cancellationToken);
        return before is null ? [] : Lines(Text(before)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The bytes a file adds: its text as UTF-8, or its binary content.</summary>
    public static long Size(ChangedFile file) => file.Data?.LongLength ?? Encoding.UTF8.GetByteCount(file.Content ?? "");

    private static bool IsWellFormed(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && !path.Any(char.IsControl)
        && path.Split('/').All(segment => segment is not ("" or "." or "..") && !segment.Equals(".git", StringComparison.OrdinalIgnoreCase));


    private async IAsyncEnumerable<(string Place, string Kind)> FindSecretsAsync(
        ChangesProposed change, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in change.Files.Where(f => f.Change != FileChange.Deleted))
        {
            var found = Findings(Text(file));
            if (found.Count == 0)
                continue;
            // Lines the file had before are the repository's, not the change's.
            var old = await BaseLinesAsync(change, file, cancellationToken);
            found = found.Where(f => !old.Contains(f.Line)).ToList();
            foreach (var kind in found.Select(f => f.Kind).Distinct())
                yield return (DisplayText.Path(file.Path), kind);
        }
        foreach (var kind in Findings(change.CommitMessage).Select(f => f.Kind).Distinct())
            yield return ("the commit message", kind);
        foreach (var kind in Findings(change.PullRequestTitle).Select(f => f.Kind).Distinct())
            yield return ("the pull request title", kind);
        foreach (var kind in Findings(change.PullRequestBody).Select(f => f.Kind).Distinct())
            yield return ("the pull request body", kind);
    }

    private static List<(string Line, string Kind)> Findings(string text) =>
        [.. Lines(text).SelectMany(line => SecretPatterns.KindsIn(line).Select(kind => (line, kind)))];

    // Every content is read as its runs of printable ASCII, text and binary alike (and the base's the same way, so lines
    // compare equal): the patterns are ASCII, a key in a binary file is still ASCII, and a byte that is not (NUL in an
    // environment block, 0xFF before a token) separates, as a line break does.
    // Bytes with NULs among them are read as UTF-16 too (both byte orders): a key written as UTF-16 has a NUL after
    // every letter, which would otherwise break it into lines of one letter.
    internal static string Text(ChangedFile file) => Text(file.Data ?? Encoding.UTF8.GetBytes(file.Content ?? ""));

    private static string Text(byte[] bytes)
    {
        var ascii = AsciiRuns(bytes);
        if (Array.IndexOf(bytes, (byte)0) < 0)
            return ascii;
        return string.Join('\n', ascii,
            AsciiRuns(Encoding.Latin1.GetBytes(Encoding.Unicode.GetString(bytes))),
            AsciiRuns(Encoding.Latin1.GetBytes(Encoding.BigEndianUnicode.GetString(bytes))));
    }

    private static string AsciiRuns(byte[] bytes) =>
        string.Create(bytes.Length, bytes, (chars, b) =>
        {
            for (var i = 0; i < b.Length; i++)
                chars[i] = b[i] is (>= 0x20 and < 0x7F) or (byte)'\t' ? (char)b[i] : '\n';
        });

    internal static IEnumerable<string> Lines(string text) => text.Split('\n');

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
