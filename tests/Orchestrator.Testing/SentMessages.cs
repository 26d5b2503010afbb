using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Orchestrator.Testing;

/// <summary>
/// Every message the watched hosts sent or published (responses included), with the size of its body as it went onto
/// the broker: how a test shows that nothing larger left a service.
/// </summary>
public sealed class SentMessages : ISendObserver, IPublishObserver
{
    private readonly ConcurrentQueue<(string Type, long Bytes)> _sent = new();
    private readonly ConcurrentQueue<string> _texts = new();

    /// <summary>Every message as JSON: what a test searches for a secret that must not have left.</summary>
    public IReadOnlyList<string> Texts => [.. _texts];

    public IReadOnlyList<(string Type, long Bytes)> All => [.. _sent];

    public (string Type, long Bytes) Largest => All.MaxBy(m => m.Bytes);

    public static SentMessages Watch(params ServiceHost[] hosts)
    {
        var sent = new SentMessages();
        foreach (var host in hosts)
        {
            var bus = host.Services.GetRequiredService<IBus>();
            bus.ConnectSendObserver(sent);
            bus.ConnectPublishObserver(sent);
        }
        return sent;
    }

    public Task PostSend<T>(SendContext<T> context) where T : class => Record(context);

    public Task PostPublish<T>(PublishContext<T> context) where T : class => Record(context);

    private Task Record<T>(SendContext<T> context) where T : class
    {
        _texts.Enqueue(System.Text.Json.JsonSerializer.Serialize(context.Message));
        _sent.Enqueue((typeof(T).Name, context.BodyLength ?? throw new InvalidOperationException($"{typeof(T).Name} was sent without a known body length")));
        return Task.CompletedTask;
    }

    public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

    public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

    public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

    public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
