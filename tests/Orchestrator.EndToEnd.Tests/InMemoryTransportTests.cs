using System.Net;
using System.Net.Http.Json;
using Orchestrator.Intake;
using Orchestrator.Testing;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>BUS_TRANSPORT=inmemory: a service runs on a development machine with no broker at all.</summary>
public sealed class InMemoryTransportTests
{
    [Fact]
    public async Task Intake_is_ready_and_accepts_work_without_a_broker()
    {
        var directory = TestPaths.NewTempDirectory("inmemory");
        await using var intake = await ServiceHost.StartAsync(IntakeTelemetry.Service, b => b.AddIntake(), new Dictionary<string, string?>
        {
            ["BUS_TRANSPORT"] = "inmemory",
            ["RABBITMQ_URL"] = null,
            ["DATABASE_PATH"] = Path.Combine(directory, "intake.db"),
            ["REPOSITORIES"] = "acme/widgets",
            ["Logging:LogLevel:Default"] = "Warning",
        }, app => app.MapIntake(), TestContext.Current.CancellationToken);

        var ready = await intake.Http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var response = await intake.Http.PostAsJsonAsync("/api/work-items", new { repository = "acme/widgets", title = "Try it" },
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
