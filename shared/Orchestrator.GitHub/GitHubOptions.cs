using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.GitHub;

/// <summary>
/// Where GitHub is and who we are on it: a token (a personal access token or any bearer token), or a GitHub App,
/// whose installation tokens are minted and refreshed here.
/// </summary>
public sealed class GitHubOptions : IValidatedOptions
{
    /// <summary>https://api.github.com, or a GitHub Enterprise Server host (Octokit adds /api/v3/ for those).</summary>
    [ConfigurationKeyName("GITHUB_API_URL")]
    public string ApiUrl { get; set; } = "https://api.github.com";

    [ConfigurationKeyName("GITHUB_TOKEN")]
    public string? Token { get; set; }

    [ConfigurationKeyName("GITHUB_APP_ID")]
    public long? AppId { get; set; }

    /// <summary>The App's private key in PEM form; or <see cref="AppPrivateKeyPath"/>, a file holding it.</summary>
    [ConfigurationKeyName("GITHUB_APP_PRIVATE_KEY")]
    public string? AppPrivateKey { get; set; }

    [ConfigurationKeyName("GITHUB_APP_PRIVATE_KEY_PATH")]
    public string? AppPrivateKeyPath { get; set; }

    /// <summary>Optional: without it the installation on REPO_OWNER/REPO_NAME is looked up.</summary>
    [ConfigurationKeyName("GITHUB_APP_INSTALLATION_ID")]
    public long? AppInstallationId { get; set; }

    [ConfigurationKeyName("REPO_OWNER")]
    public string? RepoOwner { get; set; }

    [ConfigurationKeyName("REPO_NAME")]
    public string? RepoName { get; set; }

    public bool UsesApp => AppId is not null;

    public bool HasCredentials => UsesApp || !string.IsNullOrWhiteSpace(Token);

    public IEnumerable<string> Validate()
    {
        if (!Setting.IsAbsoluteUri(ApiUrl, "http", "https"))
            yield return "GITHUB_API_URL is not a valid http(s) URL";
        if (UsesApp)
        {
            if (!string.IsNullOrWhiteSpace(Token))
                yield return "set GITHUB_TOKEN or GITHUB_APP_ID, not both";
            if (string.IsNullOrWhiteSpace(AppPrivateKey) == string.IsNullOrWhiteSpace(AppPrivateKeyPath))
                yield return "GITHUB_APP_ID needs exactly one of GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH";
            else if (!string.IsNullOrWhiteSpace(AppPrivateKeyPath) && !File.Exists(AppPrivateKeyPath))
                yield return "GITHUB_APP_PRIVATE_KEY_PATH names no file";
            if (AppInstallationId is null && (string.IsNullOrWhiteSpace(RepoOwner) || string.IsNullOrWhiteSpace(RepoName)))
                yield return "GITHUB_APP_ID needs GITHUB_APP_INSTALLATION_ID, or REPO_OWNER and REPO_NAME to find the installation";
        }
        else if (!string.IsNullOrWhiteSpace(AppPrivateKey) || !string.IsNullOrWhiteSpace(AppPrivateKeyPath))
            yield return "GITHUB_APP_PRIVATE_KEY is set without GITHUB_APP_ID";
    }

    public string ReadPrivateKey() =>
        !string.IsNullOrWhiteSpace(AppPrivateKey) ? AppPrivateKey.Replace("\\n", "\n") : File.ReadAllText(AppPrivateKeyPath!);
}
