using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Orchestrator.Testing;

/// <summary>The API tokens every test host is configured with (API_TOKENS): one that writes and one that only reads.</summary>
public static class TestApiTokens
{
    public static readonly string Writer = RandomToken();
    public static readonly string Reader = RandomToken();

    public const string WriterName = "test-writer";
    public const string ReaderName = "test-reader";

    public static string Setting => $"{WriterName}:write:{Writer},{ReaderName}:read:{Reader}";

    public static string RandomToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    /// <summary>Sends <paramref name="token"/> as the bearer token on every request of <paramref name="http"/>.</summary>
    public static HttpClient WithToken(this HttpClient http, string? token)
    {
        http.DefaultRequestHeaders.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}

public static class ApiCommands
{
    /// <summary>POSTs a command that takes no arguments, as JSON (the API takes nothing else on a write).</summary>
    public static Task<HttpResponseMessage> PostCommandAsync(this HttpClient http, string path, CancellationToken cancellationToken = default) =>
        http.PostAsync(path, System.Net.Http.Json.JsonContent.Create(new { }), cancellationToken);
}
