using System.Reflection;
using MassTransit;
using Orchestrator.Contracts;
using Xunit;

namespace Orchestrator.Testing;

/// <summary>A message as the recorder received it, with the envelope's CorrelationId and trace context, and when it came.</summary>
public sealed record RecordedMessage(object Message, Guid? CorrelationId, string? TraceParent, DateTimeOffset ReceivedAt);

/// <summary>
/// A separate bus on the test's virtual host that receives a copy of every published contract message, so a test can wait
/// for an event instead of sleeping, and check what crossed the broker.
/// </summary>
public sealed class MessageRecorder : IAsyncDisposable
{
    private static readonly MethodInfo HandlerMethod = typeof(MessageRecorder).GetMethod(nameof(AddHandler), BindingFlags.NonPublic | BindingFlags.Instance)!;
    private readonly List<RecordedMessage> _messages = [];
    private readonly List<(Func<RecordedMessage, bool> Match, TaskCompletionSource<RecordedMessage> Done)> _waiters = [];
    private IBusControl? _bus;

    public IReadOnlyList<RecordedMessage> Messages
    {
        get
        {
            lock (_messages)
                return [.. _messages];
        }
    }

    public IEnumerable<T> All<T>() => Messages.Select(m => m.Message).OfType<T>();

    /// <summary>Publishes on the test's virtual host, as another service would.</summary>
    public Task Publish<T>(T message) where T : class => _bus!.Publish(message, TestContext.Current.CancellationToken);

    public static async Task<MessageRecorder> StartAsync(Uri rabbitMqUrl)
    {
        var recorder = new MessageRecorder();
        var contracts = typeof(WorkItemAccepted).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetProperty("CorrelationId")?.PropertyType == typeof(Guid));
        recorder._bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbitMqUrl);
            cfg.ReceiveEndpoint(endpoint =>
            {
                foreach (var type in contracts)
                    HandlerMethod.MakeGenericMethod(type).Invoke(recorder, [endpoint]);
            });
        });
        await recorder._bus.StartAsync(TestContext.Current.CancellationToken);
        return recorder;
    }

    /// <summary>Completes with the first message of type <typeparamref name="T"/> that matches, received before or after the call.</summary>
    public async Task<T> WaitFor<T>(Func<T, bool> match, TimeSpan timeout) where T : class
    {
        var done = new TaskCompletionSource<RecordedMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_messages)
        {
            var seen = _messages.FirstOrDefault(m => m.Message is T t && match(t));
            if (seen is not null)
                return (T)seen.Message;
            _waiters.Add((m => m.Message is T t && match(t), done));
        }
        try
        {
            return (T)(await done.Task.WaitAsync(timeout, TestContext.Current.CancellationToken)).Message;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No {typeof(T).Name} within {timeout.TotalSeconds:0.#} s; received: " +
                string.Join(", ", Messages.Select(m => m.Message.GetType().Name)));
        }
    }

    private void AddHandler<T>(IReceiveEndpointConfigurator endpoint) where T : class =>
        endpoint.Handler<T>(context =>
        {
            var recorded = new RecordedMessage(context.Message, context.CorrelationId, context.Headers.Get<string>("traceparent"), DateTimeOffset.UtcNow);
            lock (_messages)
            {
                _messages.Add(recorded);
                foreach (var waiter in _waiters.Where(w => w.Match(recorded)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult(recorded);
                }
            }
            return Task.CompletedTask;
        });

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
            await _bus.StopAsync();
    }
}
