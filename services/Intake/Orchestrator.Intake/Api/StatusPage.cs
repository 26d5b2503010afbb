using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Orchestrator.Intake.Ledger;
using Orchestrator.ServiceDefaults.Api;

namespace Orchestrator.Intake.Api;

/// <summary>
/// <c>GET /</c>: the ledger as a plain HTML page, newest first, with links to issues and pull requests. Without a read
/// token it asks for one, once: the token goes to <c>POST /api/session</c>, which keeps it in an HttpOnly cookie.
/// </summary>
public static class StatusPage
{
    private const int PageSize = 50;

    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder app)
    {
        // Open to anyone, so that it can ask for the token; it shows nothing else without one.
        app.MapGet("/", RenderAsync).AllowAnonymous();
        return app;
    }

    private static async Task<IResult> RenderAsync(
        HttpContext context, IntakeDbContext db, CancellationToken cancellationToken, WorkItemStatus? status = null, int page = 1)
    {
        // Nothing on either page runs a script but the sign-in form's own, and no page may be framed.
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        context.Response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'";
        if (!context.MayRead())
            return Results.Content(SignInPage(nonce), "text/html; charset=utf-8", statusCode: StatusCodes.Status401Unauthorized);

        page = Math.Max(1, page);
        var query = db.WorkItems.AsNoTracking();
        if (status is not null)
            query = query.Where(x => x.Status == status);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(x => x.CreatedAt).Skip((page - 1) * PageSize).Take(PageSize).ToListAsync(cancellationToken);

        var html = new StringBuilder();
        html.Append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
            <title>Orchestrator: work items</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}table{border-collapse:collapse;width:100%}
            th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
            .Failed,.Cancelled{color:#cf222e}.PullRequestOpened,.Completed{color:#1a7f37}code{font-size:.85em}
            nav a{margin-right:.8rem}
            </style></head><body>
            <h1>Work items</h1>
            <nav><a href="/">all</a>
            """);
        foreach (var s in Enum.GetValues<WorkItemStatus>())
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"/?status={s}\">{s}</a>");
        html.Append(CultureInfo.InvariantCulture, $"</nav><p>{total} work item(s){(status is null ? "" : $" with status {status}")}.</p>");
        html.Append("<table><thead><tr><th>Issue</th><th>Title</th><th>Status</th><th>Pull request</th><th>Usage</th><th>Updated (UTC)</th><th>Work item</th></tr></thead><tbody>");
        foreach (var item in items)
        {
            var issue = item.IssueNumber is { } n
                ? Link(item.IssueUrl, $"{item.Repository}#{n}")
                : Encode(item.Repository);
            var usage = item.InputTokens + item.OutputTokens > 0 || item.Duration > TimeSpan.Zero
                ? string.Create(CultureInfo.InvariantCulture, $"{item.InputTokens + item.OutputTokens:N0} tokens, ${item.Cost:0.0000}, {item.Duration.TotalSeconds:0} s")
                : "";
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr><td>{issue}</td><td>{Encode(item.Title)}</td><td class="{item.Status}">{item.Status}</td><td>{Link(item.PullRequestUrl, item.PullRequestUrl)}</td>
                <td>{usage}</td><td>{item.UpdatedAt:yyyy-MM-dd HH:mm:ss}</td><td><a href="/api/work-items/{item.Id}"><code>{item.Id}</code></a>{(item.TraceId is null ? "" : $"<br><code>trace {Encode(item.TraceId)}</code>")}</td></tr>
                """);
        }
        html.Append("</tbody></table>");
        if (page > 1)
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"/?page={page - 1}{(status is null ? "" : $"&status={status}")}\">newer</a> ");
        if (page * PageSize < total)
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"/?page={page + 1}{(status is null ? "" : $"&status={status}")}\">older</a>");
        html.Append("</body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static string SignInPage(string nonce) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Orchestrator: sign in</title>
        <style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}input{font:inherit;width:30rem;max-width:90%}
        .error{color:#cf222e}</style></head><body>
        <h1>Work items</h1>
        <form id="sign-in"><label for="token">API token (a read or write token from API_TOKENS)</label><br>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
        <button type="submit">Sign in</button></form><p id="error" class="error" role="alert"></p>
        <script nonce="{{nonce}}">
        document.getElementById('sign-in').addEventListener('submit', async event => {
          event.preventDefault();
          const response = await fetch('/api/session', {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin',
            body: JSON.stringify({ token: document.getElementById('token').value }) });
          if (response.ok) location.reload();
          else document.getElementById('error').textContent = response.status === 429 ? 'Too many tries: wait a minute.' : 'That token is not valid.';
        });
        </script></body></html>
        """;

    private static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    // Only http(s) links: a URL from a message must not become a javascript: link.
    private static string Link(string? url, string? text) =>
        url is not null && (url.StartsWith("https://", StringComparison.Ordinal) || url.StartsWith("http://", StringComparison.Ordinal))
            ? $"<a href=\"{Encode(url)}\">{Encode(text)}</a>"
            : Encode(text);
}
