using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Intake;

public sealed class IntakeOptions : IValidatedOptions
{
    /// <summary>The repository Intake watches, and the one an API submission belongs to when it names none.</summary>
    [ConfigurationKeyName("REPO_OWNER")]
    public string? RepoOwner { get; set; }

    [ConfigurationKeyName("REPO_NAME")]
    public string? RepoName { get; set; }

    [ConfigurationKeyName("DEFAULT_BASE_BRANCH")]
    public string DefaultBaseBranch { get; set; } = "main";

    /// <summary>Repositories are cloned from "{GIT_CLONE_BASE_URL}/{owner}/{name}.git": a URL, or a local folder in tests.</summary>
    [ConfigurationKeyName("GIT_CLONE_BASE_URL")]
    public string GitCloneBaseUrl { get; set; } = "https://github.com";

    /// <summary>The label that makes an issue a work item.</summary>
    [ConfigurationKeyName("WORK_ITEM_LABEL")]
    public string WorkItemLabel { get; set; } = "orchestrator:work-item";

    /// <summary>How often the repository is polled for labelled issues; 0 turns polling off (webhook only).</summary>
    [ConfigurationKeyName("GITHUB_POLL_INTERVAL")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The secret GitHub signs webhook deliveries with. Without it the webhook endpoint refuses every delivery.</summary>
    [ConfigurationKeyName("GITHUB_WEBHOOK_SECRET")]
    public string? WebhookSecret { get; set; }

    /// <summary>Author associations allowed to trigger work and give commands (comma-separated, GitHub's names).</summary>
    [ConfigurationKeyName("TRIGGER_ASSOCIATIONS")]
    public string TriggerAssociations { get; set; } = "OWNER,MEMBER,COLLABORATOR";

    public string? DefaultRepository =>
        string.IsNullOrWhiteSpace(RepoOwner) || string.IsNullOrWhiteSpace(RepoName) ? null : $"{RepoOwner}/{RepoName}";

    public string CloneUrl(string repository) => $"{GitCloneBaseUrl.TrimEnd('/')}/{repository}.git";

    public bool MayTrigger(string? association) =>
        association is not null && TriggerAssociations.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Contains(association, StringComparer.OrdinalIgnoreCase);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(RepoOwner) != string.IsNullOrWhiteSpace(RepoName))
            yield return "REPO_OWNER and REPO_NAME are set together or not at all";
        if (string.IsNullOrWhiteSpace(DefaultBaseBranch))
            yield return "DEFAULT_BASE_BRANCH must not be empty";
        if (string.IsNullOrWhiteSpace(GitCloneBaseUrl))
            yield return "GIT_CLONE_BASE_URL must not be empty";
        if (string.IsNullOrWhiteSpace(WorkItemLabel))
            yield return "WORK_ITEM_LABEL must not be empty";
        if (PollInterval < TimeSpan.Zero || (PollInterval > TimeSpan.Zero && PollInterval < TimeSpan.FromSeconds(1)))
            yield return "GITHUB_POLL_INTERVAL must be 0 (off) or at least 1 second";
        if (string.IsNullOrWhiteSpace(TriggerAssociations))
            yield return "TRIGGER_ASSOCIATIONS must name at least one association (OWNER, MEMBER, COLLABORATOR, ...)";
    }
}
