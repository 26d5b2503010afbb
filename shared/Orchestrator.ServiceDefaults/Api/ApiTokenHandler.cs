using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ServiceDefaults.Api;

/// <summary>
/// Authenticates a caller by an API token: <c>Authorization: Bearer &lt;token&gt;</c>, or the status page's cookie that
/// holds it. The token names the caller and gives its role (a write token has the read role too); through the cookie,
/// any token only reads.
/// </summary>
public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    IOptions<ApiAccessOptions> access)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggers, encoder)
{
    public const string SchemeName = "ApiToken";

    /// <summary>The cookie the status page keeps the token in (HttpOnly, SameSite=Strict, Secure behind TLS).</summary>
    public const string Cookie = "orchestrator-token";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var bearer = ApiAccess.BearerToken(Request);
        var presented = bearer ?? Request.Cookies[Cookie];
        if (string.IsNullOrEmpty(presented))
            return Task.FromResult(AuthenticateResult.NoResult());
        if (presented.Length > ApiAccessOptions.MaxTokenLength || access.Value.Find(presented) is not { } token)
            return Task.FromResult(AuthenticateResult.Fail("the token is not one of API_TOKENS"));
        // The page's cookie only ever reads, whatever token it holds: a stolen or replayed cookie changes nothing.
        var role = bearer is null ? ApiRole.Read : token.Role;
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(Principal(token.Name, role), SchemeName)));
    }

    public static ClaimsPrincipal Principal(string name, ApiRole role)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(ClaimTypes.Role, ApiRoles.Read) };
        if (role == ApiRole.Write)
            claims.Add(new Claim(ClaimTypes.Role, ApiRoles.Write));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        ApiAccess.WriteProblemAsync(Context, StatusCodes.Status401Unauthorized, "a token is required: Authorization: Bearer <token> (see API_TOKENS)");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiAccess.WriteProblemAsync(Context, StatusCodes.Status403Forbidden, "this token may not do that: it needs the write role");
}

public static class ApiRoles
{
    public const string Read = "read";
    public const string Write = "write";
}
