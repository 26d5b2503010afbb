using Microsoft.Extensions.Logging;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>
/// The logger factory handed to the MCP SDK, which may log whole messages (tool results included): every message,
/// structured value and exception text passes <see cref="ServerSecrets.Redact"/> first.
/// </summary>
public sealed class RedactingLoggerFactory(ILoggerFactory inner, ServerSecrets secrets) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), secrets);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The inner factory belongs to the host.
    public void Dispose()
    {
    }

    private sealed class RedactingLogger(ILogger inner, ServerSecrets secrets) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            var message = secrets.Redact(formatter(state, exception));
            IReadOnlyList<KeyValuePair<string, object?>> values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? [.. pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value is string s ? secrets.Redact(s) : p.Value))]
                : [];
            var redactedException = exception is null ? null
                : secrets.Redact(exception.ToString()) is var text && text == exception.ToString() ? exception
                : new RedactedException(text);
            inner.Log(logLevel, eventId, values, redactedException, (_, _) => message);
        }
    }

    private sealed class RedactedException(string text) : Exception(text)
    {
        public override string ToString() => Message;
    }
}
