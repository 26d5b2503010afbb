using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Testing.Telemetry;

/// <summary>A span as a service exported it over OTLP: which service, which trace, its name and its attributes.</summary>
public sealed record ReceivedSpan(string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// An OTLP/HTTP receiver on 127.0.0.1 standing in for the tracing backend, so services in processes of their own export
/// their spans to the test as they would to the dashboard (<c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>). Traces are
/// decoded (a few fields of the protobuf are enough); logs and metrics are accepted and dropped. It answers a trace's
/// query as Jaeger's API does (<c>GET /api/traces/{traceId}</c>, the fields that identify spans), which makes it the
/// tracing dashboard's stand-in in the compose smoke test (tests/Orchestrator.TracingStandIn).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LockedList<ReceivedSpan> _spans = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>What OTEL_EXPORTER_OTLP_ENDPOINT is set to.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<ReceivedSpan> Spans => _spans.Snapshot();

    /// <summary>Export requests the receiver could not read.</summary>
    public LockedList<string> Errors { get; } = new();

    /// <summary>The settings that make a service export here, promptly.</summary>
    public IEnumerable<(string Key, string? Value)> Settings =>
        [("OTEL_EXPORTER_OTLP_ENDPOINT", Endpoint.ToString().TrimEnd('/')), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"), ("OTEL_BSP_SCHEDULE_DELAY", "200")];

    /// <param name="urls">Where to listen, when not on a free port of 127.0.0.1.</param>
    public static async Task<OtlpReceiver> StartAsync(params string[] urls)
    {
        var app = LoopbackServer.Create(urls);
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", (Delegate)receiver.TracesAsync);
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        app.MapGet("/api/traces/{traceId}", receiver.JaegerTrace);
        app.MapGet("/api/services", () => Results.Json(new { data = receiver.Spans.Select(s => s.Service).Distinct().Order() }));
        receiver.Endpoint = await LoopbackServer.StartAsync(app);
        return receiver;
    }

    /// <summary>A trace in the shape of Jaeger's query API: its spans, each naming its process, and the processes' services.</summary>
    private IResult JaegerTrace(string traceId)
    {
        var spans = Spans.Where(s => s.TraceId.Equals(traceId, StringComparison.OrdinalIgnoreCase)).ToList();
        if (spans.Count == 0)
            return Results.Json(new { data = (object?)null, errors = new[] { new { code = 404, msg = "trace not found" } } }, statusCode: 404);
        var processes = spans.Select(s => s.Service).Distinct().Select((service, i) => (Service: service, Id: $"p{i + 1}")).ToList();
        return Results.Json(new
        {
            data = new[]
            {
                new
                {
                    traceID = traceId.ToLowerInvariant(),
                    spans = spans.Select(s => new
                    {
                        traceID = s.TraceId,
                        spanID = s.SpanId,
                        operationName = s.Name,
                        references = s.ParentSpanId.Length == 0 ? [] : new[] { new { refType = "CHILD_OF", traceID = s.TraceId, spanID = s.ParentSpanId } },
                        processID = processes.First(p => p.Service == s.Service).Id,
                        tags = s.Attributes.Select(a => new { key = a.Key, type = "string", value = a.Value }),
                    }),
                    processes = processes.ToDictionary(p => p.Id, p => new { serviceName = p.Service }),
                },
            },
        });
    }

    private async Task<IResult> TracesAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        try
        {
            foreach (var span in Decode(body.ToArray()))
                _spans.Add(span);
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            Errors.Add(e.ToString());
            return Results.BadRequest();
        }
        return Results.Bytes([], "application/x-protobuf");
    }

    // ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource { 1: KeyValue }, 2: ScopeSpans { 1: Scope { 1: name }, 2: Span } } }
    private static IEnumerable<ReceivedSpan> Decode(byte[] request)
    {
        foreach (var resourceSpans in Protobuf.Messages(request, 1))
        {
            var service = "";
            foreach (var resource in Protobuf.Messages(resourceSpans, 1))
                service = Attributes(resource, 1).GetValueOrDefault("service.name", "");
            foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
            {
                var scope = Protobuf.Messages(scopeSpans, 1).Select(s => Protobuf.String(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Protobuf.Messages(scopeSpans, 2))
                {
                    yield return new ReceivedSpan(service, scope, Protobuf.Hex(span, 1), Protobuf.Hex(span, 2), Protobuf.Hex(span, 4),
                        Protobuf.String(span, 5) ?? "", Attributes(span, 9));
                }
            }
        }
    }

    // KeyValue { 1: key, 2: AnyValue { 1: string, 2: bool, 3: int } }
    private static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, int field)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in Protobuf.Messages(message, field))
        {
            var key = Protobuf.String(pair, 1);
            var value = Protobuf.Messages(pair, 2).FirstOrDefault();
            if (key is null || value.IsEmpty)
                continue;
            attributes[key] = Protobuf.String(value, 1) ?? Protobuf.Varint(value, 3)?.ToString() ?? Protobuf.Varint(value, 2)?.ToString() ?? "";
        }
        return attributes;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Just enough of the protobuf wire format to read fields out of a message.</summary>
internal static class Protobuf
{
    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Number == field && f.WireType == 2).Select(f => f.Bytes);

    public static string? String(ReadOnlyMemory<byte> message, int field) =>
        Messages(message, field).Select(b => System.Text.Encoding.UTF8.GetString(b.Span)).FirstOrDefault();

    public static string Hex(ReadOnlyMemory<byte> message, int field) =>
        Messages(message, field).Select(b => Convert.ToHexStringLower(b.Span)).FirstOrDefault() ?? "";

    public static long? Varint(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Number == field && f.WireType == 0).Select(f => (long?)f.Value).FirstOrDefault();

    private static List<(int Number, int WireType, ReadOnlyMemory<byte> Bytes, long Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, int, ReadOnlyMemory<byte>, long)>();
        var span = message.Span;
        var at = 0;
        while (at < span.Length)
        {
            var tag = (long)ReadVarint(span, ref at);
            var (number, wireType) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wireType)
            {
                case 0:
                    fields.Add((number, wireType, default, (long)ReadVarint(span, ref at)));
                    break;
                case 1:
                    at += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(span, ref at);
                    fields.Add((number, wireType, message.Slice(at, length), 0));
                    at += length;
                    break;
                case 5:
                    at += 4;
                    break;
                default:
                    throw new FormatException($"Unsupported protobuf wire type {wireType}");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = span[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
    }
}
