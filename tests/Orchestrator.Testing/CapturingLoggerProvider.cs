using Microsoft.Extensions.Logging;

namespace Orchestrator.Testing;

/// <summary>Keeps every log line (category, message, exception text) so a test can search what a service wrote.</summary>
public sealed class CapturingLoggerProvider(LockedList<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LockedList<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Add($"{logLevel} {category}: {formatter(state, exception)} {values} {exception}");
        }
    }
}
