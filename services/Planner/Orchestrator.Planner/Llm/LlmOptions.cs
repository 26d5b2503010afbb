using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner.Llm;

/// <summary>The LLM endpoint: the OpenAI API or anything that speaks its chat completions (Azure OpenAI, Ollama, vLLM).</summary>
public sealed class LlmOptions : IValidatedOptions
{
    public static readonly Uri OpenAiApi = new("https://api.openai.com/v1");

    /// <summary>Sent as the bearer token. Endpoints that need none (a local Ollama) may leave it empty.</summary>
    [ConfigurationKeyName("OPENAI_API_KEY")]
    public string? ApiKey { get; set; }

    [ConfigurationKeyName("OPENAI_BASE_URL")]
    public Uri BaseUrl { get; set; } = OpenAiApi;

    [ConfigurationKeyName("OPENAI_MODEL")]
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>How long one LLM request may take before it is abandoned and retried.</summary>
    [ConfigurationKeyName("LLM_REQUEST_TIMEOUT")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Retries of a request that got 429, a 5xx, a timeout or no answer, before the run fails.</summary>
    [ConfigurationKeyName("LLM_MAX_RETRIES")]
    public int MaxRetries { get; set; } = 5;

    /// <summary>The longest wait between retries, whether the server asked for it (Retry-After) or the backoff got there.</summary>
    [ConfigurationKeyName("LLM_RETRY_MAX_WAIT")]
    public TimeSpan RetryMaxWait { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Prices in US dollars per million tokens, input/output, for models the built-in table does not know or prices that
    /// changed: <c>my-model=0.5/1.5;gpt-4o=2.5/10</c>.
    /// </summary>
    [ConfigurationKeyName("LLM_PRICES")]
    public string? Prices { get; set; }

    public PriceTable PriceTable => PriceTable.WithOverrides(Prices);

    public IEnumerable<string> Validate()
    {
        if (!BaseUrl.IsAbsoluteUri || BaseUrl.Scheme is not ("http" or "https"))
            yield return "OPENAI_BASE_URL must be an http(s) URL";
        else if (string.IsNullOrWhiteSpace(ApiKey) && BaseUrl.Host == OpenAiApi.Host)
            yield return "OPENAI_API_KEY is required for the OpenAI API (set OPENAI_BASE_URL for an endpoint that needs no key)";
        if (string.IsNullOrWhiteSpace(Model))
            yield return "OPENAI_MODEL is required";
        if (RequestTimeout <= TimeSpan.Zero)
            yield return "LLM_REQUEST_TIMEOUT must be positive";
        if (MaxRetries < 0)
            yield return "LLM_MAX_RETRIES must not be negative";
        if (RetryMaxWait <= TimeSpan.Zero)
            yield return "LLM_RETRY_MAX_WAIT must be positive";
        if (PriceTable.ParseError(Prices) is { } error)
            yield return $"LLM_PRICES: {error}";
    }
}
