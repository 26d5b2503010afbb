using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher;

public sealed class PublisherOptions : IValidatedOptions
{
    /// <summary>Write nothing to GitHub: record what would be published. Without it, GitHub credentials are required.</summary>
    [ConfigurationKeyName("PUBLISH_DRY_RUN")]
    public bool DryRun { get; set; }

    /// <summary>Open pull requests as drafts.</summary>
    [ConfigurationKeyName("PUBLISH_DRAFT")]
    public bool Draft { get; set; }

    /// <summary>Comma-separated globs (<c>*</c> within a folder, <c>**</c> across folders) no change may touch.</summary>
    [ConfigurationKeyName("PUBLISH_PROTECTED_PATHS")]
    public string ProtectedPaths { get; set; } = ".github/workflows/**";

    /// <summary>Publish symbolic links. Off by default: a link in a pull request can point a reader's checkout anywhere.</summary>
    [ConfigurationKeyName("PUBLISH_ALLOW_SYMLINKS")]
    public bool AllowSymlinks { get; set; }

    /// <summary>
    /// Publish changes that weaken the tests or CI: a deleted test file, an added skip (<c>it.skip</c>, <c>[Fact(Skip=…)]</c>,
    /// <c>@pytest.mark.skip</c>, <c>t.Skip</c>…) or <c>continue-on-error: true</c>. Off by default: an agent told its change
    /// must pass the tests could otherwise make them pass by not running them.
    /// </summary>
    [ConfigurationKeyName("PUBLISH_ALLOW_TEST_WEAKENING")]
    public bool AllowTestWeakening { get; set; }

    /// <summary>Publish changes to submodules (which commit a submodule points at). Off by default.</summary>
    [ConfigurationKeyName("PUBLISH_ALLOW_SUBMODULES")]
    public bool AllowSubmodules { get; set; }

    [ConfigurationKeyName("PUBLISH_COMMIT_AUTHOR_NAME")]
    public string CommitAuthorName { get; set; } = "orchestrator[bot]";

    [ConfigurationKeyName("PUBLISH_COMMIT_AUTHOR_EMAIL")]
    public string CommitAuthorEmail { get; set; } = "orchestrator@users.noreply.github.com";

    /// <summary>The longest a GitHub rate limit is waited out inside one message; longer, the message is retried later.</summary>
    [ConfigurationKeyName("GITHUB_RATE_LIMIT_MAX_WAIT")]
    public TimeSpan RateLimitMaxWait { get; set; } = TimeSpan.FromMinutes(5);

    public IReadOnlyList<string> ProtectedPathList =>
        [.. ProtectedPaths.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(CommitAuthorName) || string.IsNullOrWhiteSpace(CommitAuthorEmail))
            yield return "PUBLISH_COMMIT_AUTHOR_NAME and PUBLISH_COMMIT_AUTHOR_EMAIL must not be empty";
        if (RateLimitMaxWait < TimeSpan.Zero)
            yield return "GITHUB_RATE_LIMIT_MAX_WAIT must not be negative";
    }
}
