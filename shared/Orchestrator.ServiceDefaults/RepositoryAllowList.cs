using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Orchestrator.ServiceDefaults;

/// <summary>
/// The repositories Orchestrator may work on: Intake accepts work only for them (API, webhook, poller) and Publisher
/// writes only to them. <c>REPOSITORIES</c> is a comma-separated list of <c>owner/name</c> patterns, where <c>*</c>
/// stands for any part of one name (<c>acme/*</c>, <c>acme/service-*</c>); unset, it is REPO_OWNER/REPO_NAME alone.
/// Names compare without case, as GitHub's do.
/// </summary>
public sealed partial class RepositoryAllowList : IValidatedOptions
{
    [ConfigurationKeyName("REPOSITORIES")]
    public string? Repositories { get; set; }

    [ConfigurationKeyName("REPO_OWNER")]
    public string? RepoOwner { get; set; }

    [ConfigurationKeyName("REPO_NAME")]
    public string? RepoName { get; set; }

    private IReadOnlyList<Regex>? _patterns;

    /// <summary>The patterns in force: REPOSITORIES, or REPO_OWNER/REPO_NAME, or none (then nothing is allowed).</summary>
    public IReadOnlyList<string> Patterns =>
        !string.IsNullOrWhiteSpace(Repositories)
            ? [.. Repositories.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : string.IsNullOrWhiteSpace(RepoOwner) || string.IsNullOrWhiteSpace(RepoName) ? [] : [$"{RepoOwner}/{RepoName}"];

    public bool Allows(string? repository)
    {
        if (repository is null || !IsName(repository))
            return false;
        _patterns ??= [.. Patterns.Select(ToRegex)];
        return _patterns.Any(p => p.IsMatch(repository));
    }

    /// <summary>Whether <paramref name="repository"/> is a repository's owner/name at all ("." and ".." are no name, and in a URL path they climb out of it).</summary>
    public static bool IsName(string repository) =>
        Name().IsMatch(repository) && !repository.Split('/').Any(part => part is "." or "..");

    public IEnumerable<string> Validate()
    {
        foreach (var pattern in Patterns)
        {
            if (!PatternShape().IsMatch(pattern))
                yield return $"REPOSITORIES: '{pattern}' is not owner/name (letters, digits, '-', '_', '.', and '*' for any part of a name)";
        }
    }

    // \z, not $ (which also matches before a final newline); no backtracking, however many '*' a pattern has.
    private static Regex ToRegex(string pattern) => new(
        @"\A" + string.Join("[^/]*", pattern.Split('*').Select(Regex.Escape)) + @"\z",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    [GeneratedRegex(@"\A[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}\z")]
    private static partial Regex Name();

    [GeneratedRegex(@"\A[A-Za-z0-9_.*-]{1,100}/[A-Za-z0-9_.*-]{1,100}\z")]
    private static partial Regex PatternShape();
}
