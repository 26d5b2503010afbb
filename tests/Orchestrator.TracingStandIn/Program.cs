using System.Runtime.InteropServices;
using Orchestrator.Testing.Telemetry;

// The tracing dashboard (Jaeger all-in-one) as far as the compose smoke test needs it, where no registry is reachable to
// pull Jaeger's image: OTLP/HTTP on 4318 as the services export, and Jaeger's query API for a trace on 16686
// (GET /api/traces/{traceId}). It keeps the spans in memory until it stops (SIGTERM, as docker stop sends).
var stopped = new TaskCompletionSource();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
await using var receiver = await OtlpReceiver.StartAsync("http://0.0.0.0:4318", "http://0.0.0.0:16686");
Console.WriteLine("Tracing stand-in: OTLP/HTTP on :4318, GET /api/traces/{traceId} on :16686");
await stopped.Task;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopped.TrySetResult();
}
