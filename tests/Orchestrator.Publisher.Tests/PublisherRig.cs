using Orchestrator.Contracts;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;

namespace Orchestrator.Publisher.Tests;

/// <summary>
/// Publisher on a virtual host of the real broker, writing to the fake GitHub through the real Octokit client. The fake's
/// git data is a real bare repository holding <c>main</c> with a README and a workflow.
/// </summary>
public sealed class PublisherRig : IAsyncDisposable
{
    public const string Repository = "acme/widgets";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private PublisherRig(string directory, FakeGitHub gitHub, VirtualHost broker, MessageRecorder recorder, string token, string baseCommit)
    {
        Directory = directory;
        GitHub = gitHub;
        Broker = broker;
        Recorder = recorder;
        Token = token;
        BaseCommit = baseCommit;
    }

    public string Directory { get; }
    public FakeGitHub GitHub { get; }
    public VirtualHost Broker { get; }
    public MessageRecorder Recorder { get; }
    public string Token { get; }
    public string BaseCommit { get; }
    public ServiceHost? Publisher { get; private set; }

    /// <param name="more">Files of main beyond the README and the workflow.</param>
    public static async Task<PublisherRig> StartAsync(Action<GitRepository.Seed>? more = null)
    {
        var directory = TestPaths.NewTempDirectory("publisher");
        var bare = GitRepository.CreateBare(Path.Combine(directory, "repos"), Repository, "main", seed =>
        {
            seed.Write("README.md", "# Widgets\n").Write(".github/workflows/ci.yml", "on: push\n");
            more?.Invoke(seed);
            seed.Commit("Initial commit");
        });
        var token = "ghp_test" + Guid.NewGuid().ToString("N");
        var gitHub = await FakeGitHub.StartAsync(Repository, bare, token);
        var broker = await RabbitMqBroker.CreateVirtualHostAsync();
        var recorder = await MessageRecorder.StartAsync(broker.Url);
        return new PublisherRig(directory, gitHub, broker, recorder, token, GitRepository.Run(bare, "rev-parse", "main").Trim());
    }

    /// <summary>What Publisher's Program.cs reads from its environment here.</summary>
    public IEnumerable<(string Key, string? Value)> Settings(params (string Key, string? Value)[] more) =>
        new (string Key, string? Value)[]
        {
            ("RABBITMQ_URL", Broker.Url.ToString()),
            ("DATABASE_PATH", Path.Combine(Directory, "publisher.db")),
            ("GITHUB_API_URL", GitHub.Url.ToString()),
            ("GITHUB_TOKEN", Token),
            ("REPO_OWNER", "acme"),
            ("REPO_NAME", "widgets"),
            ("Logging:LogLevel:Default", "Information"),
            ("Logging:LogLevel:Microsoft", "Warning"),
        }.Where(s => more.All(m => m.Key != s.Key)).Concat(more);

    public async Task<ServiceHost> StartPublisherAsync(params (string Key, string? Value)[] more)
    {
        Publisher = await ServiceHost.StartAsync(PublisherTelemetry.Service, b => b.AddPublisher(),
            Settings(more).ToDictionary(s => s.Key, s => s.Value), cancellationToken: TestContext.Current.CancellationToken);
        return Publisher;
    }

    public WorkItemAccepted Accepted(Guid id, int issue) =>
        new(id, Repository, issue, "Add a greeting", "Say hello.", ["orchestrator:work-item"], "octocat", "main", "unused");

    public ChangesProposed Proposed(Guid id, int issue, params ChangedFile[] files) =>
        new(id, Repository, issue, "main", BaseCommit, $"orchestrator/issue-{issue}", files, "Add a greeting", "Add a greeting",
            "Adds GREETING.md.", new RunUsage(3, 2, 1200, 340, 0.0123m, TimeSpan.FromSeconds(42)));

    /// <summary>What the Planner sends for a work item: it was accepted, then its change proposed.</summary>
    public async Task ProposeAsync(Guid id, int issue, params ChangedFile[] files)
    {
        await Recorder.Publish(Accepted(id, issue));
        await Recorder.Publish(Proposed(id, issue, files));
    }

    public async Task<FakeComment> SingleCommentAsync(int issue, Func<string, bool> shows, string what) =>
        (await Eventually.Until(() => Task.FromResult(GitHub.CommentsOn(issue)), c => c.Count == 1 && shows(c[0].Body), Timeout, what))[0];

    public async ValueTask DisposeAsync()
    {
        if (Publisher is not null)
            await Publisher.DisposeAsync();
        await Recorder.DisposeAsync();
        await Broker.DisposeAsync();
        await GitHub.DisposeAsync();
    }
}
