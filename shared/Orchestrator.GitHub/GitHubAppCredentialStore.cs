using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Octokit;
using Octokit.Internal;

namespace Orchestrator.GitHub;

/// <summary>
/// Credentials of a GitHub App installation: a JWT signed with the App's private key buys an installation token
/// (valid an hour), which is reused until five minutes before it expires and then replaced.
/// </summary>
public sealed class GitHubAppCredentialStore(GitHubOptions options, TimeProvider clock, ILogger logger) : ICredentialStore
{
    private static readonly TimeSpan RefreshBeforeExpiry = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lazy<RSA> _key = new(() =>
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(options.ReadPrivateKey());
        return rsa;
    });
    private Credentials? _current;
    private DateTimeOffset _expiresAt;
    private long? _installationId = options.AppInstallationId;

    public async Task<Credentials> GetCredentials()
    {
        if (_current is { } fresh && clock.GetUtcNow() < _expiresAt - RefreshBeforeExpiry)
            return fresh;
        await _gate.WaitAsync();
        try
        {
            if (_current is { } other && clock.GetUtcNow() < _expiresAt - RefreshBeforeExpiry)
                return other;
            var app = new GitHubClient(GitHubClientFactory.Product, new InMemoryCredentialStore(
                new Credentials(CreateJwt(), AuthenticationType.Bearer)), new Uri(options.ApiUrl));
            _installationId ??= (await app.GitHubApps.GetRepositoryInstallationForCurrent(options.RepoOwner, options.RepoName)).Id;
            var token = await app.GitHubApps.CreateInstallationToken(_installationId.Value);
            _current = new Credentials(token.Token, AuthenticationType.Bearer);
            _expiresAt = token.ExpiresAt;
            logger.LogInformation("GitHub App {AppId}: installation token for {InstallationId} valid until {ExpiresAt:O}",
                options.AppId, _installationId, _expiresAt);
            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The App's own identity: RS256, issued a minute in the past for clock drift, valid nine minutes (GitHub allows ten).</summary>
    public string CreateJwt()
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8.ToArray());
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { iat = now - 60, exp = now + 540, iss = options.AppId!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        var signature = _key.Value.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
