using System.Globalization;
using System.Net;
using Octokit;

namespace Orchestrator.GitHub;

/// <summary>How long GitHub asks us to wait, from a refused request.</summary>
public static class RateLimits
{
    /// <summary>
    /// The wait a rate-limited answer asks for: <c>Retry-After</c> (secondary limits, and 429s), else the time until
    /// <c>x-ratelimit-reset</c> when <c>x-ratelimit-remaining</c> is 0 (primary limit), else a minute for a secondary-limit
    /// 403 without headers, as GitHub's documentation advises. Null when the failure is not a rate limit.
    /// </summary>
    public static TimeSpan? RetryAfter(ApiException exception, DateTimeOffset now)
    {
        if (exception.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests) || exception.HttpResponse is null)
            return null;
        var headers = exception.HttpResponse.Headers;
        if (Header(headers, "Retry-After") is { } retryAfter && int.TryParse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return TimeSpan.FromSeconds(seconds);
        if (Header(headers, "x-ratelimit-remaining") == "0"
            && long.TryParse(Header(headers, "x-ratelimit-reset"), NumberStyles.None, CultureInfo.InvariantCulture, out var reset))
        {
            var wait = DateTimeOffset.FromUnixTimeSeconds(reset) - now;
            return wait > TimeSpan.Zero ? wait + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1);
        }
        if (exception is SecondaryRateLimitExceededException || exception.StatusCode == HttpStatusCode.TooManyRequests
            || exception.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase))
            return TimeSpan.FromMinutes(1);
        return null;
    }

    private static string? Header(IReadOnlyDictionary<string, string> headers, string name) =>
        headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
