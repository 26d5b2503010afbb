using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Planner.Llm;

public static class LlmServiceExtensions
{
    /// <summary>
    /// The <see cref="IChatClient"/> every run talks through: the OpenAI client pointed at OPENAI_BASE_URL, with
    /// OpenTelemetry GenAI spans (model, token usage; no message content) under the Planner's ActivitySource.
    /// </summary>
    public static IServiceCollection AddLlm(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<LlmOptions>(configuration);
        services.AddSingleton<LlmRetryPolicy>();
        services.AddSingleton(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<LlmOptions>>().Value;
            // An endpoint without keys (Ollama) ignores the header; the client insists on some credential.
            var key = new ApiKeyCredential(string.IsNullOrWhiteSpace(settings.ApiKey) ? "no-key" : settings.ApiKey);
            var openAi = new OpenAIClient(key, new OpenAIClientOptions
            {
                Endpoint = settings.BaseUrl,
                // LlmRetryPolicy retries and times out each attempt; the client's own would retry behind its back.
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = settings.RequestTimeout + TimeSpan.FromSeconds(30),
            });
            return openAi.GetChatClient(settings.Model).AsIChatClient()
                .AsBuilder()
                .UseOpenTelemetry(provider.GetService<ILoggerFactory>(), PlannerTelemetry.Source.Name)
                .Build(provider);
        });
        return services;
    }
}
