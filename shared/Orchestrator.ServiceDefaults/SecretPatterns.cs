using System.Text.RegularExpressions;

namespace Orchestrator.ServiceDefaults;

/// <summary>
/// What a credential looks like, by kind: Publisher refuses a change that adds one, the Planner masks them in the
/// transcripts it keeps. Known values (a service's own keys) are masked by the service that knows them.
/// </summary>
public static partial class SecretPatterns
{
    public const string Mask = "[redacted]";

    public static IReadOnlyList<(string Kind, Regex Pattern)> All { get; } =
    [
        ("GitHub token", GitHubToken()),
        ("private key", PrivateKey()),
        ("AWS access key", AwsKey()),
        ("OpenAI API key", OpenAiKey()),
        ("Slack token", SlackToken()),
        ("Google API key", GoogleKey()),
        ("Stripe live key", StripeKey()),
        ("credential assignment", CredentialAssignment()),
    ];

    /// <summary>The kinds of secret <paramref name="text"/> seems to hold, each once.</summary>
    public static IEnumerable<string> KindsIn(string text) => All.Where(p => p.Pattern.IsMatch(text)).Select(p => p.Kind);

    /// <summary><paramref name="text"/> with everything that looks like a credential replaced by <see cref="Mask"/>.</summary>
    public static string Redact(string text)
    {
        foreach (var (kind, pattern) in All)
        {
            // A private key is masked from its header to its footer, not just the header line.
            text = kind == "private key"
                ? PrivateKeyBlock().Replace(text, Mask)
                : pattern.Replace(text, Mask);
        }
        return text;
    }

    [GeneratedRegex(@"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"-----BEGIN ([A-Z]+ )*PRIVATE KEY( BLOCK)?-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"-----BEGIN ([A-Z]+ )*PRIVATE KEY( BLOCK)?-----(.*?-----END ([A-Z]+ )*PRIVATE KEY( BLOCK)?-----|.*)", RegexOptions.Singleline)]
    private static partial Regex PrivateKeyBlock();

    [GeneratedRegex(@"\b(AKIA|ASIA)[0-9A-Z]{16}\b")]
    private static partial Regex AwsKey();

    [GeneratedRegex(@"\bsk-(proj-|svcacct-)?[A-Za-z0-9_-]{32,}")]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"\bxox[abposr]-[A-Za-z0-9-]{10,}")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_-]{35}\b")]
    private static partial Regex GoogleKey();

    [GeneratedRegex(@"\b(sk|rk)_live_[0-9A-Za-z]{24,}")]
    private static partial Regex StripeKey();

    // password = "..." with a literal of some length; placeholders like "${VAR}" or "<secret>" are not literals.
    [GeneratedRegex(@"(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\b\s*[:=]\s*[""'](?![$<{])[^""'\s]{12,}[""']")]
    private static partial Regex CredentialAssignment();
}
