using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Orchestrator.ServiceDefaults.Api;

/// <summary>What a caller of the HTTP API may do: a read token sees, a write token also submits, cancels and retries.</summary>
public enum ApiRole
{
    Read,
    Write,
}

/// <summary>One configured API token: its name (who is acting, in logs and timelines), its role and its SHA-256.</summary>
public sealed record ApiToken(string Name, ApiRole Role, byte[] Hash);

/// <summary>
/// Who may use the HTTP API. Tokens come from <c>API_TOKENS</c> (several at once, so one can be rotated in before the old
/// one is removed); a JWT from an identity provider is accepted too when <c>API_JWT_AUTHORITY</c> is set.
/// </summary>
public sealed class ApiAccessOptions : IValidatedOptions
{
    /// <summary>The shortest token accepted: 32 characters of a random generator (e.g. <c>openssl rand -hex 32</c>).</summary>
    public const int MinTokenLength = 32;

    public const int MaxTokenLength = 512;

    /// <summary>
    /// Comma- or whitespace-separated entries <c>name:role:token</c>, role <c>read</c> or <c>write</c>; e.g.
    /// <c>ci:write:3f9c…,dashboard:read:8a1b…</c>. Unset: only JWTs (when configured) are accepted.
    /// </summary>
    [ConfigurationKeyName("API_TOKENS")]
    public string? Tokens { get; set; }

    /// <summary>The identity provider whose JWTs are accepted (its OpenID Connect metadata is read from there).</summary>
    [ConfigurationKeyName("API_JWT_AUTHORITY")]
    public string? JwtAuthority { get; set; }

    /// <summary>The audience a JWT must be issued for; required with API_JWT_AUTHORITY.</summary>
    [ConfigurationKeyName("API_JWT_AUDIENCE")]
    public string? JwtAudience { get; set; }

    /// <summary>The JWT claim that carries the caller's roles; its values <c>read</c> and <c>write</c> count.</summary>
    [ConfigurationKeyName("API_JWT_ROLE_CLAIM")]
    public string JwtRoleClaim { get; set; } = "roles";

    /// <summary>Only for an identity provider on plain http in a test or on one machine; never in production.</summary>
    [ConfigurationKeyName("API_JWT_REQUIRE_HTTPS")]
    public bool JwtRequireHttps { get; set; } = true;

    /// <summary>
    /// Mark the status page's cookie Secure always (behind a TLS-terminating proxy, where the service itself sees
    /// http); otherwise it is Secure when the request came over https.
    /// </summary>
    [ConfigurationKeyName("API_COOKIE_SECURE")]
    public bool CookieAlwaysSecure { get; set; }

    /// <summary>Writes (submit, cancel, retry) one caller may make per minute.</summary>
    [ConfigurationKeyName("API_WRITE_RATE_LIMIT")]
    public int WritesPerMinute { get; set; } = 30;

    /// <summary>Reads one caller may make per minute.</summary>
    [ConfigurationKeyName("API_READ_RATE_LIMIT")]
    public int ReadsPerMinute { get; set; } = 600;

    /// <summary>Token sign-ins (the status page's form) one address may try per minute.</summary>
    [ConfigurationKeyName("API_SIGN_IN_RATE_LIMIT")]
    public int SignInsPerMinute { get; set; } = 10;

    private IReadOnlyList<ApiToken>? _parsed;

    public bool JwtEnabled => !string.IsNullOrWhiteSpace(JwtAuthority);

    public IReadOnlyList<ApiToken> ParsedTokens => _parsed ??= [.. Parse().OfType<ApiToken>()];

    /// <summary>
    /// The configured token equal to <paramref name="presented"/>, or null. Every configured token is compared, each in
    /// constant time over its hash, so the time taken tells nothing about which one nearly matched.
    /// </summary>
    public ApiToken? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiToken? found = null;
        foreach (var token in ParsedTokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, token.Hash))
                found = token;
        }
        return found;
    }

    public IEnumerable<string> Validate()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Parse())
        {
            if (entry is string error)
            {
                yield return error;
                continue;
            }
            var token = (ApiToken)entry;
            if (!names.Add(token.Name))
                yield return $"API_TOKENS names '{token.Name}' twice";
            if (!hashes.Add(Convert.ToHexString(token.Hash)))
                yield return $"API_TOKENS gives token '{token.Name}' the same secret as another";
        }
        if (JwtEnabled && !Setting.IsAbsoluteUri(JwtAuthority, "https", "http"))
            yield return "API_JWT_AUTHORITY must be an absolute http(s) URL";
        if (JwtEnabled && string.IsNullOrWhiteSpace(JwtAudience))
            yield return "API_JWT_AUDIENCE is required with API_JWT_AUTHORITY";
        if (string.IsNullOrWhiteSpace(JwtRoleClaim))
            yield return "API_JWT_ROLE_CLAIM must not be empty";
        if (WritesPerMinute < 1)
            yield return "API_WRITE_RATE_LIMIT must be at least 1";
        if (ReadsPerMinute < 1)
            yield return "API_READ_RATE_LIMIT must be at least 1";
        if (SignInsPerMinute < 1)
            yield return "API_SIGN_IN_RATE_LIMIT must be at least 1";
    }

    // Each entry is a token or one sentence about what is wrong with it; the sentence never repeats the secret.
    private IEnumerable<object> Parse()
    {
        var entries = (Tokens ?? "").Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < entries.Length; i++)
        {
            var parts = entries[i].Split(':', 3);
            if (parts.Length != 3 || parts[0].Length == 0)
            {
                yield return $"API_TOKENS entry {i + 1} must be name:role:token";
                continue;
            }
            var (name, role, secret) = (parts[0], parts[1], parts[2]);
            if (name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                yield return $"API_TOKENS entry {i + 1}: the name is at most 64 letters, digits, '-', '_' or '.'";
            else if (!Enum.TryParse<ApiRole>(role, ignoreCase: true, out var parsedRole) || !Enum.IsDefined(parsedRole))
                yield return $"API_TOKENS token '{name}': the role must be read or write";
            else if (secret.Length is < MinTokenLength or > MaxTokenLength)
                yield return $"API_TOKENS token '{name}' must be {MinTokenLength} to {MaxTokenLength} characters";
            else
                yield return new ApiToken(name, parsedRole, SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        }
    }
}
