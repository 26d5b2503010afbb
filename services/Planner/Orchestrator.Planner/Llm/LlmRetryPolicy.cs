using System.ClientModel;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner.Llm;

/// <summary>One failed attempt that will be retried: why, and how long the policy waits first.</summary>
public sealed record LlmRetry(int Attempt, string Fault, TimeSpan Delay);

/// <summary>
/// Retries an LLM request that got 429, a 5xx, a timeout or no connection, waiting what the server asked for
/// (Retry-After, retry-after-ms) or else an exponential backoff, within LLM_RETRY_MAX_WAIT; anything else fails the
/// run at once. The OpenAI client's own retries are off, so every attempt and every wait is ours and on the transcript.
/// </summary>
public sealed class LlmRetryPolicy(IOptions<LlmOptions> options, TimeProvider clock, ILogger<LlmRetryPolicy> logger)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> attempt, Func<LlmRetry, Task> onRetry, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var host = settings.BaseUrl.Host;
        for (var number = 1; ; number++)
        {
            using var timeout = new CancellationTokenSource(settings.RequestTimeout, clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            Fault fault;
            try
            {
                return await attempt(linked.Token);
            }
            catch (Exception e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                fault = new Fault($"no answer within {settings.RequestTimeout.TotalSeconds:0} s", Retryable: true, null, e);
            }
            catch (ClientResultException e)
            {
                fault = Classify(e);
            }
            catch (HttpRequestException e)
            {
                fault = new Fault($"could not reach {host}: {e.Message}", Retryable: true, null, e);
            }

            if (!fault.Retryable)
                throw new LlmCallFailedException(LlmCallFailedException.Refused, $"The LLM at {host} refused the request: {fault.Description}", fault.Exception);
            if (number > settings.MaxRetries)
            {
                throw new LlmCallFailedException(LlmCallFailedException.Unavailable,
                    $"The LLM at {host} failed {number} time(s) in a row, last with {fault.Description}; giving up after {settings.MaxRetries} retries (LLM_MAX_RETRIES).",
                    fault.Exception);
            }
            var delay = fault.RetryAfter ?? Backoff(number);
            if (delay > settings.RetryMaxWait)
            {
                if (fault.RetryAfter is not null)
                {
                    throw new LlmCallFailedException(LlmCallFailedException.Unavailable,
                        $"The LLM at {host} answered {fault.Description} and asked to wait {delay.TotalSeconds:0} s, longer than LLM_RETRY_MAX_WAIT ({settings.RetryMaxWait.TotalSeconds:0} s).",
                        fault.Exception);
                }
                delay = settings.RetryMaxWait;
            }
            logger.LogWarning("LLM request failed ({Fault}); retry {Retry} of {MaxRetries} in {Delay:0.0} s",
                fault.Description, number, settings.MaxRetries, delay.TotalSeconds);
            await onRetry(new LlmRetry(number, fault.Description, delay));
            await Task.Delay(delay, clock, cancellationToken);
        }
    }

    // 1 s, 2 s, 4 s… with up to a fifth more at random, so runs that failed together do not retry together.
    private static TimeSpan Backoff(int attempt) =>
        FirstBackoff * Math.Pow(2, attempt - 1) * (1 + Random.Shared.NextDouble() / 5);

    private Fault Classify(ClientResultException e)
    {
        var status = e.Status;
        var description = status == 0 ? $"no answer ({Clean(e.Message)})" : $"HTTP {status}: {Clean(e.Message)}";
        var retryable = status is 0 or 408 or 409 or 429 or >= 500;
        return new Fault(description, retryable, retryable ? RetryAfter(e) : null, e);
    }

    /// <summary>What the server asked for: retry-after-ms (OpenAI's), else Retry-After in seconds or as a date.</summary>
    private TimeSpan? RetryAfter(ClientResultException e)
    {
        var headers = e.GetRawResponse()?.Headers;
        if (headers is null)
            return null;
        if (headers.TryGetValue("retry-after-ms", out var ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
            return TimeSpan.FromMilliseconds(milliseconds);
        if (!headers.TryGetValue("Retry-After", out var value) || value is null)
            return null;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            return TimeSpan.FromSeconds(seconds);
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromTicks(Math.Max(0, (at - clock.GetUtcNow()).Ticks))
            : null;
    }

    // The server's message, on one line and without anything that looks like a key (a 401 may echo part of it).
    private static string Clean(string message) =>
        SecretPatterns.Redact(string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    private sealed record Fault(string Description, bool Retryable, TimeSpan? RetryAfter, Exception Exception);
}
