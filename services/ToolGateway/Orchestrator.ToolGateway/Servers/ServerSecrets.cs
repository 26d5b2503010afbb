using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.ToolGateway.Catalog;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>
/// The secrets the catalog hands to servers, read from the gateway's settings when a server starts, and the redaction
/// that keeps their values out of everything that leaves the gateway: tool results, failures and logs.
/// </summary>
public sealed class ServerSecrets(IConfiguration configuration, IOptions<ToolGatewayOptions> options, ILogger<ServerSecrets> logger)
{
    public const string Mask = "[redacted]";

    // Shorter values would mangle ordinary text; a real token is far longer.
    private const int MinimumLength = 4;

    /// <summary>The variables <paramref name="definition"/> receives, with their values. A setting with no value is skipped with a warning.</summary>
    public IEnumerable<KeyValuePair<string, string>> For(McpServerDefinition definition)
    {
        foreach (var (variable, setting) in definition.Secrets)
        {
            if (configuration[setting] is { Length: > 0 } value)
                yield return new(variable, value);
            else
                logger.LogWarning("{Setting} is not set: server {Server} starts without {Variable}", setting, definition.Name, variable);
        }
    }

    public string Redact(string text)
    {
        foreach (var value in _values.Value)
        {
            if (text.Contains(value, StringComparison.Ordinal))
                text = text.Replace(value, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    // Read once: every tool result passes through Redact, and the settings are fixed for the process's life.
    private readonly Lazy<string[]> _values = new(() => [.. options.Value.Servers.SelectMany(s => s.Secrets.Values).Distinct()
        .Select(setting => configuration[setting]).OfType<string>().Where(v => v.Length >= MinimumLength)
        .OrderByDescending(v => v.Length)]);
}
