using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Intake.Api;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;

namespace Orchestrator.Intake.Tests;

/// <summary>Intake as its Program.cs starts it, on a virtual host of the real broker, reading the fake GitHub through Octokit.</summary>
public sealed class IntakeRig : IAsyncDisposable
{
    public const string Repository = "acme/widgets";
    public const string Label = "orchestrator:work-item";
    public const string WebhookSecret = "webhook-secret-for-tests";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private IntakeRig(string directory, FakeGitHub gitHub, VirtualHost broker, MessageRecorder recorder, string token)
    {
        Directory = directory;
        GitHub = gitHub;
        Broker = broker;
        Recorder = recorder;
        Token = token;
    }

    public string Directory { get; }
    public FakeGitHub GitHub { get; }
    public VirtualHost Broker { get; }
    public MessageRecorder Recorder { get; }
    public string Token { get; }
    public ServiceHost Intake { get; private set; } = null!;

    /// <param name="pollInterval">"0" leaves polling to the test (<see cref="PollAsync"/>).</param>
    /// <param name="settings">Settings of the test's own, over the rig's.</param>
    public static async Task<IntakeRig> StartAsync(
        string pollInterval = "0", Action<FakeGitHub>? arrange = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var directory = TestPaths.NewTempDirectory("intake");
        var bare = GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", new Dictionary<string, string> { ["README.md"] = "#\n" });
        var token = "ghp_test" + Guid.NewGuid().ToString("N");
        var gitHub = await FakeGitHub.StartAsync(Repository, bare, token);
        arrange?.Invoke(gitHub);
        var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var recorder = await MessageRecorder.StartAsync(broker.Url);
        var rig = new IntakeRig(directory, gitHub, broker, recorder, token);
        var all = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.Url.ToString(),
            ["DATABASE_PATH"] = Path.Combine(directory, "intake.db"),
            ["GITHUB_API_URL"] = gitHub.Url.ToString(),
            ["GITHUB_TOKEN"] = token,
            ["REPO_OWNER"] = "acme",
            ["REPO_NAME"] = "widgets",
            ["GITHUB_WEBHOOK_SECRET"] = WebhookSecret,
            ["GITHUB_POLL_INTERVAL"] = pollInterval,
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        rig.Intake = await ServiceHost.StartAsync(IntakeTelemetry.Service, b => b.AddIntake(), all, app => app.MapIntake(), TestContext.Current.CancellationToken);
        return rig;
    }

    public Task<GitHub.PollResult> PollAsync() =>
        Intake.Services.GetRequiredService<GitHub.IssuePoller>().PollAsync(TestContext.Current.CancellationToken);

    public async Task<WorkItemPage> ListAsync(string query = "") =>
        (await Intake.Http.GetFromJsonAsync<WorkItemPage>($"/api/work-items{query}", Json, TestContext.Current.CancellationToken))!;

    /// <summary>Delivers a webhook as GitHub does: JSON body, event and delivery headers, the HMAC signature.</summary>
    public Task<HttpResponseMessage> DeliverAsync(string eventName, object payload, string? delivery = null, string? signature = null) =>
        Webhooks.DeliverAsync(Intake.Http, WebhookSecret, eventName, payload, delivery, signature, TestContext.Current.CancellationToken);

    /// <summary>Delivers <paramref name="json"/> exactly as written, signed.</summary>
    public Task<HttpResponseMessage> DeliverRawAsync(string eventName, string json) =>
        Webhooks.DeliverAsync(Intake.Http, WebhookSecret, eventName, System.Text.Encoding.UTF8.GetBytes(json), cancellationToken: TestContext.Current.CancellationToken);

    public static object IssuePayload(FakeIssue issue) => Webhooks.Issue(Repository, issue);

    public static object Labeled(FakeIssue issue, string label = Label) => Webhooks.Labeled(Repository, issue, label);

    public static object Commented(FakeIssue issue, string body, string association = "COLLABORATOR", string login = "maintainer", string type = "User") =>
        Webhooks.Commented(Repository, issue, body, association, login: login, type: type);

    public async ValueTask DisposeAsync()
    {
        await Intake.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        await GitHub.DisposeAsync();
    }
}
