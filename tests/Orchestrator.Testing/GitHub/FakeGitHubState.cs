namespace Orchestrator.Testing.GitHub;

public sealed class FakeIssue
{
    public required int Number { get; init; }
    public required string Title { get; set; }
    public string Body { get; set; } = "";
    public string State { get; set; } = "open";
    public string Author { get; set; } = "octocat";
    public string AuthorAssociation { get; set; } = "OWNER";
    public List<string> Labels { get; } = [];
    public bool IsPullRequest { get; init; }
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;
}

public sealed class FakeComment
{
    public required long Id { get; init; }
    public required int IssueNumber { get; init; }
    public required string Body { get; set; }
    public required string Author { get; init; }
    public int Edits { get; set; }
}

public sealed class FakePullRequest
{
    public required int Number { get; init; }
    public required string Title { get; set; }
    public required string Body { get; set; }
    public required string Head { get; init; }
    public required string Base { get; set; }
    public bool Draft { get; init; }

    /// <summary>The head branch's commit when the pull request was opened.</summary>
    public string HeadSha { get; init; } = new('0', 40);

    public string State { get; set; } = "open";
    public int Edits { get; set; }
}

/// <summary>A request as the fake saw it, for assertions on what the real client sent.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string? IfNoneMatch, string? Authorization, int Status, string Body, DateTimeOffset At);

/// <summary>A request the fake answers only when the test releases it (after it has already taken effect).</summary>
public sealed class HeldRequest(string method, string pathSuffix)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Method { get; } = method;
    public string PathSuffix { get; } = pathSuffix;

    /// <summary>Completes when a matching request has taken effect and waits for its answer.</summary>
    public Task Reached => _reached.Task;

    internal Task Released => _released.Task;

    internal void Arrive() => _reached.TrySetResult();

    public void Release() => _released.TrySetResult();
}
