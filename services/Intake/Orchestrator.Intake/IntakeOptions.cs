using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

public sealed class IntakeOptions : IValidatedOptions
{
    /// <summary>The repository work items belong to when a submission names none.</summary>
    [ConfigurationKeyName("REPO_OWNER")]
    public string? RepoOwner { get; set; }

    [ConfigurationKeyName("REPO_NAME")]
    public string? RepoName { get; set; }

    [ConfigurationKeyName("DEFAULT_BASE_BRANCH")]
    public string DefaultBaseBranch { get; set; } = "main";

    /// <summary>Repositories are cloned from "{GIT_CLONE_BASE_URL}/{owner}/{name}.git": a URL, or a local folder in tests.</summary>
    [ConfigurationKeyName("GIT_CLONE_BASE_URL")]
    public string GitCloneBaseUrl { get; set; } = "https://github.com";

    public string? DefaultRepository =>
        string.IsNullOrWhiteSpace(RepoOwner) || string.IsNullOrWhiteSpace(RepoName) ? null : $"{RepoOwner}/{RepoName}";

    public string CloneUrl(string repository) => $"{GitCloneBaseUrl.TrimEnd('/')}/{repository}.git";

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(RepoOwner) != string.IsNullOrWhiteSpace(RepoName))
            yield return "REPO_OWNER and REPO_NAME are set together or not at all";
        if (string.IsNullOrWhiteSpace(DefaultBaseBranch))
            yield return "DEFAULT_BASE_BRANCH must not be empty";
        if (string.IsNullOrWhiteSpace(GitCloneBaseUrl))
            yield return "GIT_CLONE_BASE_URL must not be empty";
    }
}
