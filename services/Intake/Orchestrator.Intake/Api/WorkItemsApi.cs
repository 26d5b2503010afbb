using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults.Api;

namespace Orchestrator.Intake.Api;

public sealed record SubmitWorkItemRequest(string? Repository, int? IssueNumber, string? Title, string? Body);

public sealed record TimelineEntryView(string Kind, string Detail, DateTime At);

public sealed record UsageView(long InputTokens, long OutputTokens, decimal Cost, TimeSpan Duration);

public sealed record WorkItemView(
    Guid Id,
    string Repository,
    int? IssueNumber,
    string? IssueUrl,
    string Title,
    string Author,
    WorkItemStatus Status,
    string? PullRequestUrl,
    UsageView Usage,
    Guid? RetryOf,
    string? TraceId,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    IReadOnlyList<TimelineEntryView> Timeline)
{
    public static WorkItemView From(WorkItem item) => new(
        item.Id, item.Repository, item.IssueNumber, item.IssueUrl, item.Title, item.Author, item.Status, item.PullRequestUrl,
        new UsageView(item.InputTokens, item.OutputTokens, item.Cost, item.Duration), item.RetryOf, item.TraceId,
        item.CreatedAt, item.UpdatedAt,
        [.. item.Timeline.OrderBy(e => e.At).ThenBy(e => e.Id).Select(e => new TimelineEntryView(e.Kind, e.Detail, e.At))]);
}

public sealed record WorkItemPage(int Page, int PageSize, int Total, IReadOnlyList<WorkItemView> Items);

public static partial class WorkItemsApi
{
    public const int MaxTitleLength = 256;
    public const int MaxBodyLength = 65_536;

    /// <summary>The most a request may send: a body of <see cref="MaxBodyLength"/> characters, each up to 4 bytes of UTF-8, and the rest.</summary>
    public const int MaxRequestBytes = 4 * MaxBodyLength + 16_384;

    public static IEndpointRouteBuilder MapWorkItemsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/work-items").WithRequestSizeLimit(MaxRequestBytes);
        api.MapPost("/", SubmitAsync).RequireWrite();
        api.MapGet("/{id:guid}", GetAsync).RequireRead();
        api.MapGet("/", ListAsync).RequireRead();
        api.MapPost("/{id:guid}/retry", RetryAsync).RequireWrite();
        api.MapPost("/{id:guid}/cancel", CancelAsync).RequireWrite();
        return app;
    }

    private static async Task<IResult> SubmitAsync(
        SubmitWorkItemRequest request, HttpContext context, WorkItemSubmissions submissions, IOptions<IntakeOptions> options, CancellationToken cancellationToken)
    {
        var repository = string.IsNullOrWhiteSpace(request.Repository) ? options.Value.DefaultRepository : request.Repository.Trim();
        var errors = new Dictionary<string, string[]>();
        if (repository is null)
            errors["repository"] = ["required (or set REPO_OWNER and REPO_NAME)"];
        else if (!RepositoryPattern().IsMatch(repository))
            errors["repository"] = ["must be owner/name"];
        if (string.IsNullOrWhiteSpace(request.Title))
            errors["title"] = ["required"];
        else if (request.Title.Length > MaxTitleLength)
            errors["title"] = [$"at most {MaxTitleLength} characters"];
        if (request.Body is { Length: > MaxBodyLength })
            errors["body"] = [$"at most {MaxBodyLength} characters"];
        if (request.IssueNumber is <= 0)
            errors["issueNumber"] = ["must be positive"];
        if (errors.Count > 0)
            return Results.ValidationProblem(errors);

        var result = await submissions.AcceptAsync(
            new Submission(repository!, request.IssueNumber, request.Title!.Trim(), request.Body ?? "", [], $"api:{context.Caller()}"), cancellationToken);
        return result.Outcome switch
        {
            AcceptOutcome.Accepted => Results.Accepted($"/api/work-items/{result.Item!.Id}", WorkItemView.From(result.Item)),
            AcceptOutcome.RepositoryNotAllowed => Results.Problem($"{repository} is not one of the repositories Orchestrator works on (REPOSITORIES)", statusCode: 403),
            AcceptOutcome.AlreadyActive => Results.Problem($"issue #{request.IssueNumber} already has work item {result.Item!.Id} under way", statusCode: 409),
            _ => Results.Problem($"issue #{request.IssueNumber} was handled by work item {result.Item!.Id}; retry that one to run it again", statusCode: 409),
        };
    }

    /// <summary>Runs a finished work item again, as a new work item for the same issue.</summary>
    private static async Task<IResult> RetryAsync(Guid id, HttpContext context, WorkItemCommands commands, CancellationToken cancellationToken) =>
        Answer(await commands.RetryAsync(id, $"api:{context.Caller()}", null, cancellationToken), created: true);

    private static async Task<IResult> CancelAsync(Guid id, HttpContext context, WorkItemCommands commands, CancellationToken cancellationToken) =>
        Answer(await commands.CancelAsync(id, $"api:{context.Caller()}", cancellationToken), created: false);

    private static IResult Answer(CommandResult result, bool created) => result.Outcome switch
    {
        CommandOutcome.NotFound => Results.Problem(result.Message, statusCode: 404),
        CommandOutcome.Conflict => Results.Problem(result.Message, statusCode: 409),
        _ when created => Results.Accepted($"/api/work-items/{result.Item!.Id}", WorkItemView.From(result.Item)),
        _ => Results.Ok(WorkItemView.From(result.Item!)),
    };

    private static async Task<IResult> GetAsync(Guid id, IntakeDbContext db, CancellationToken cancellationToken)
    {
        var item = await db.WorkItems.AsNoTracking().Include(x => x.Timeline)
            .SingleOrDefaultAsync(x => x.Id == id, cancellationToken);
        return item is null ? Results.NotFound() : Results.Ok(WorkItemView.From(item));
    }

    private static async Task<IResult> ListAsync(
        IntakeDbContext db, CancellationToken cancellationToken, WorkItemStatus? status = null, int page = 1, int pageSize = 50)
    {
        if (page < 1 || pageSize is < 1 or > 200)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["page"] = ["page ≥ 1 and 1 ≤ pageSize ≤ 200"] });
        var query = db.WorkItems.AsNoTracking();
        if (status is not null)
            query = query.Where(x => x.Status == status);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(x => x.CreatedAt).Skip((page - 1) * pageSize).Take(pageSize)
            .Include(x => x.Timeline).ToListAsync(cancellationToken);
        return Results.Ok(new WorkItemPage(page, pageSize, total, [.. items.Select(WorkItemView.From)]));
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")]
    private static partial Regex RepositoryPattern();
}
