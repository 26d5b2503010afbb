using System.Collections.Concurrent;
using Octokit.Caching;
using Octokit.Internal;

namespace Orchestrator.GitHub;

/// <summary>
/// The last response of each GET, so Octokit can ask "changed since this ETag?". Bounded: past the limit the whole
/// cache is dropped, which costs one full request per URL and nothing else.
/// </summary>
public sealed class ResponseCache(int capacity = 1024) : IResponseCache
{
    private readonly ConcurrentDictionary<string, CachedResponse.V1> _responses = new();

    public Task<CachedResponse.V1> GetAsync(IRequest request) =>
        Task.FromResult(_responses.GetValueOrDefault(Key(request))!);

    public Task SetAsync(IRequest request, CachedResponse.V1 cachedResponse)
    {
        // Only a success is worth revalidating; an error must be asked again in full.
        if ((int)cachedResponse.StatusCode is >= 200 and < 300)
        {
            if (_responses.Count >= capacity)
                _responses.Clear();
            _responses[Key(request)] = cachedResponse;
        }
        return Task.CompletedTask;
    }

    private static string Key(IRequest request) =>
        $"{request.BaseAddress}{request.Endpoint}?{string.Join('&', request.Parameters.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}";
}
