using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.ServiceDefaults.Api;

/// <summary>
/// Who may call a service's HTTP API, configured once for every service: API tokens or JWTs authenticate, a read and a
/// write policy authorize, per-caller rate limits bound both, and writes take JSON only (a cross-site form cannot send
/// it). Every endpoint needs a read token unless it says otherwise; health and the signed webhook say otherwise.
/// </summary>
public static class ApiAccess
{
    public const string ReadPolicy = "api-read";
    public const string WritePolicy = "api-write";
    public const string SignInPolicy = "api-sign-in";
    public const string SessionPath = "/api/session";
    private const string Selector = "api";

    public static IHostApplicationBuilder AddApiAccess(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<ApiAccessOptions>(builder.Configuration);
        // A connection holds at most this much of a body its endpoint has not read yet (Kestrel's default is 1 MB), so
        // many slow or waiting uploads cost little; every endpoint reads what it takes itself, within its own limit.
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBufferSize = 64 * 1024;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "API token or JWT", o => o.ForwardDefaultSelector = context =>
                IsJwt(context) ? JwtBearerDefaults.AuthenticationScheme : ApiTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, null)
            .AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<ApiAccessOptions>>((jwt, access) =>
            {
                var settings = access.Value;
                jwt.Authority = settings.JwtAuthority;
                jwt.Audience = settings.JwtAudience;
                jwt.RequireHttpsMetadata = settings.JwtRequireHttps;
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters.NameClaimType = "sub";
                jwt.TokenValidationParameters.RoleClaimType = settings.JwtRoleClaim;
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(ReadPolicy, p => p.RequireRole(ApiRoles.Read, ApiRoles.Write))
            .AddPolicy(WritePolicy, p => p.RequireRole(ApiRoles.Write))
            // An endpoint that says nothing about access needs a read token: a new endpoint is never open by mistake.
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireRole(ApiRoles.Read, ApiRoles.Write).Build());
        services.AddRateLimiter(limits =>
        {
            limits.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                return new ValueTask(WriteProblemAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "too many requests: try again in a minute"));
            };
            limits.AddPolicy(ReadPolicy, context => PerCaller(context, a => a.ReadsPerMinute));
            limits.AddPolicy(WritePolicy, context => PerCaller(context, a => a.WritesPerMinute));
            limits.AddPolicy(SignInPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                $"address:{context.Connection.RemoteIpAddress}", _ => Window(Settings(context).SignInsPerMinute)));
        });
        return builder;
    }

    /// <summary>Authentication, authorization and rate limiting, in that order (the limits are per authenticated caller).</summary>
    public static WebApplication UseApiAccess(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        var access = app.Services.GetRequiredService<IOptions<ApiAccessOptions>>().Value;
        if (access.ParsedTokens.Count == 0 && !access.JwtEnabled)
            app.Logger.LogWarning("API_TOKENS is not set (nor API_JWT_AUTHORITY): every API request will be refused with 401");
        app.MapPost(SessionPath, SignInAsync).AllowAnonymous().RequireRateLimiting(SignInPolicy);
        app.MapDelete(SessionPath, SignOut).AllowAnonymous();
        return app;
    }

    /// <summary>Reading: a read or a write token.</summary>
    public static TBuilder RequireRead<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ReadPolicy).RequireRateLimiting(ReadPolicy);

    /// <summary>Writing: a write token, within the write rate limit, with a JSON request.</summary>
    public static TBuilder RequireWrite<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(WritePolicy).RequireRateLimiting(WritePolicy).AddEndpointFilter(async (context, next) =>
            context.HttpContext.Request.HasJsonContentType()
                ? await next(context)
                : Results.Problem("send Content-Type: application/json", statusCode: StatusCodes.Status415UnsupportedMediaType));

    /// <summary>Who is acting: the token's name or the JWT's subject.</summary>
    public static string Caller(this HttpContext context) => context.User.Identity?.Name ?? "unknown";

    public static bool MayRead(this HttpContext context) =>
        context.User.IsInRole(ApiRoles.Read) || context.User.IsInRole(ApiRoles.Write);

    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    public static Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        if (status == StatusCodes.Status401Unauthorized)
            context.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(detail, statusCode: status).ExecuteAsync(context);
    }

    public sealed record SignIn(string? Token);

    // The status page's form: the token is checked once and kept in a cookie the page's scripts cannot read.
    private static IResult SignInAsync(SignIn request, HttpContext context, IOptions<ApiAccessOptions> access)
    {
        if (request.Token is not { Length: > 0 and <= ApiAccessOptions.MaxTokenLength } token || access.Value.Find(token) is null)
            return Results.Problem("that is not a valid token", statusCode: StatusCodes.Status401Unauthorized);
        context.Response.Cookies.Append(ApiTokenHandler.Cookie, token, CookieOptions(context, access.Value));
        return Results.NoContent();
    }

    private static IResult SignOut(HttpContext context, IOptions<ApiAccessOptions> access)
    {
        context.Response.Cookies.Delete(ApiTokenHandler.Cookie, CookieOptions(context, access.Value));
        return Results.NoContent();
    }

    private static CookieOptions CookieOptions(HttpContext context, ApiAccessOptions access) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = access.CookieAlwaysSecure || context.Request.IsHttps,
        Path = "/",
        MaxAge = TimeSpan.FromDays(7),
    };

    private static bool IsJwt(HttpContext context) =>
        Settings(context).JwtEnabled && BearerToken(context.Request) is { } token && token.Count(c => c == '.') == 2;

    private static ApiAccessOptions Settings(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<ApiAccessOptions>>().Value;

    private static RateLimitPartition<string> PerCaller(HttpContext context, Func<ApiAccessOptions, int> permits) =>
        RateLimitPartition.GetFixedWindowLimiter(
            context.User.Identity?.IsAuthenticated == true ? $"caller:{context.User.Identity.Name}" : $"address:{context.Connection.RemoteIpAddress}",
            _ => Window(permits(Settings(context))));

    private static FixedWindowRateLimiterOptions Window(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };
}

/// <summary>The most bytes an endpoint reads from a request body, chunked or not (Kestrel answers 413 past it).</summary>
public sealed record RequestSizeLimit(long? MaxRequestBodySize) : Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata;

public static class RequestSizeLimitExtensions
{
    public static TBuilder WithRequestSizeLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestSizeLimit(bytes));
}
