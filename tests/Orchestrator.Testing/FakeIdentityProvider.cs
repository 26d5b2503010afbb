using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Orchestrator.Testing;

/// <summary>
/// An OpenID Connect identity provider's two documents (discovery and keys) on 127.0.0.1, and JWTs signed with its key:
/// what API_JWT_AUTHORITY points a service at.
/// </summary>
public sealed class FakeIdentityProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key" };

    private FakeIdentityProvider(WebApplication app) => _app = app;

    public Uri Authority { get; private set; } = null!;

    public static async Task<FakeIdentityProvider> StartAsync()
    {
        var app = LoopbackServer.Create();
        var provider = new FakeIdentityProvider(app);
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) => Results.Json(new
        {
            issuer = provider.Issuer,
            jwks_uri = $"{provider.Issuer}/keys",
            id_token_signing_alg_values_supported = new[] { "RS256" },
        }));
        app.MapGet("/keys", () => Results.Json(new { keys = new[] { JsonWebKeyConverter.ConvertFromRSASecurityKey(provider.PublicKey) } }));
        provider.Authority = await LoopbackServer.StartAsync(app);
        return provider;
    }

    public string Issuer => Authority.ToString().TrimEnd('/');

    private RsaSecurityKey PublicKey => new(_key.Rsa.ExportParameters(false)) { KeyId = _key.KeyId };

    /// <summary>A token for <paramref name="subject"/> with <paramref name="roles"/>, signed with this provider's key unless <paramref name="signedBy"/>.</summary>
    public string Token(string subject, string audience, string[] roles, TimeSpan? lifetime = null, RsaSecurityKey? signedBy = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = subject, ["roles"] = roles };
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = now.AddMinutes(-10),
            IssuedAt = now.AddMinutes(-10),
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(10)),
            SigningCredentials = new SigningCredentials(signedBy ?? _key, SecurityAlgorithms.RsaSha256),
        });
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
