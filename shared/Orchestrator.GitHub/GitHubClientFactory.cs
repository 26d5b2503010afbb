using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Internal;
using Octokit.Caching;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.GitHub;

/// <summary>Octokit clients with this deployment's credentials and GitHub address.</summary>
public sealed class GitHubClientFactory(IOptions<GitHubOptions> options, TimeProvider clock, ILoggerFactory loggers)
{
    public static readonly ProductHeaderValue Product = new("Orchestrator");

    private readonly Lazy<ICredentialStore> _credentials = new(() => options.Value.UsesApp
        ? new GitHubAppCredentialStore(options.Value, clock, loggers.CreateLogger<GitHubAppCredentialStore>())
        : new InMemoryCredentialStore(string.IsNullOrWhiteSpace(options.Value.Token) ? Credentials.Anonymous : new Credentials(options.Value.Token)));

    /// <summary>
    /// A client. With a <paramref name="cache"/>, GET requests are conditional (If-None-Match with the last ETag), and
    /// an unchanged answer (304) costs no rate limit.
    /// </summary>
    public IGitHubClient Create(IResponseCache? cache = null)
    {
        var client = new GitHubClient(Product, _credentials.Value, new Uri(options.Value.ApiUrl));
        if (cache is not null)
            client.ResponseCache = cache;
        return client;
    }
}

public static class GitHubServiceExtensions
{
    public static IServiceCollection AddGitHub(this IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        services.AddValidatedOptions<GitHubOptions>(configuration);
        services.AddValidatedOptions<RepositoryAllowList>(configuration);
        services.AddSingleton<GitHubClientFactory>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }
}
