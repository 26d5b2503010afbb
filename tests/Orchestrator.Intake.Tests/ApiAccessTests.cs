using System.Net;
using System.Net.Http.Json;
using Orchestrator.Intake.Api;
using Orchestrator.Testing;

namespace Orchestrator.Intake.Tests;

/// <summary>Who may use Intake's HTTP API: nobody without a token, readers read, writers also act.</summary>
public sealed class ApiAccessTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_endpoint_refuses_no_token_a_reader_may_only_read_and_a_writer_may_act()
    {
        await using var rig = await IntakeRig.StartAsync();
        var submitted = await rig.Intake.Http.PostAsJsonAsync("/api/work-items", new { title = "Say hello" }, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<WorkItemView>(IntakeRig.Json, Cancel))!.Id;
        using var anonymous = new HttpClient { BaseAddress = rig.Intake.Address };
        using var wrong = new HttpClient { BaseAddress = rig.Intake.Address }.WithToken(TestApiTokens.RandomToken());
        using var reader = new HttpClient { BaseAddress = rig.Intake.Address }.WithToken(TestApiTokens.Reader);

        (string Method, string Path)[] reads = [("GET", "/api/work-items"), ("GET", $"/api/work-items/{id}")];
        (string Method, string Path)[] writes = [("POST", "/api/work-items"), ("POST", $"/api/work-items/{id}/cancel"), ("POST", $"/api/work-items/{id}/retry")];
        foreach (var (method, path) in reads.Concat(writes))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(anonymous, method, path)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(wrong, method, path)).StatusCode);
        }
        foreach (var (method, path) in reads)
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(reader, method, path)).StatusCode);
        foreach (var (method, path) in writes)
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(reader, method, path)).StatusCode);
        // An unknown path is no way round it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/nothing-here", Cancel)).StatusCode);

        // Nothing the refused requests asked for happened: one work item, still under way, submitted by the writer.
        var page = await rig.ListAsync();
        var item = Assert.Single(page.Items);
        Assert.Equal(Ledger.WorkItemStatus.Accepted, item.Status);
        Assert.Equal($"api:{TestApiTokens.WriterName}", item.Author);
        var cancelled = await rig.Intake.Http.PostCommandAsync($"/api/work-items/{id}/cancel", Cancel);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Contains($"by api:{TestApiTokens.WriterName}", (await rig.ListAsync()).Items[0].Timeline[^1].Detail);
        // Health stays open: orchestration checks it without a token.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live", Cancel)).StatusCode);
    }

    [Fact]
    public async Task Work_item_ids_are_random_not_sequential()
    {
        await using var rig = await IntakeRig.StartAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var response = await rig.Intake.Http.PostAsJsonAsync("/api/work-items", new { title = $"Item {i}" }, Cancel);
            ids.Add((await response.Content.ReadFromJsonAsync<WorkItemView>(IntakeRig.Json, Cancel))!.Id);
        }

        // Version 4: 122 random bits. NewId's sequential ids share their leading bytes when made close together.
        Assert.All(ids, id => Assert.Equal(4, id.Version));
        Assert.Equal(3, ids.Select(id => id.ToString()[..8]).Distinct().Count());
    }

    [Fact]
    public async Task Submissions_beyond_the_write_rate_limit_get_429_and_create_nothing()
    {
        await using var rig = await IntakeRig.StartAsync(settings: new Dictionary<string, string?> { ["API_WRITE_RATE_LIMIT"] = "3" });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            statuses.Add((await rig.Intake.Http.PostAsJsonAsync("/api/work-items", new { title = $"Item {i}" }, Cancel)).StatusCode);

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(3, (await rig.ListAsync()).Total);
        // Another caller has a budget of its own, and reading is not writing.
        using var reader = new HttpClient { BaseAddress = rig.Intake.Address }.WithToken(TestApiTokens.Reader);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/work-items", Cancel)).StatusCode);
    }

    [Fact]
    public async Task A_cross_site_form_post_is_refused_even_with_the_page_cookie_and_a_write_takes_JSON_only()
    {
        await using var rig = await IntakeRig.StartAsync();
        var submitted = await rig.Intake.Http.PostAsJsonAsync("/api/work-items", new { title = "Say hello" }, Cancel);
        var id = (await submitted.Content.ReadFromJsonAsync<WorkItemView>(IntakeRig.Json, Cancel))!.Id;
        using var browser = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = rig.Intake.Address };

        // What another site's page can make a browser send: a form, which carries the cookie if SameSite lets it.
        foreach (var (path, form) in new[] { ($"/api/work-items/{id}/cancel", ""), ("/api/work-items", "title=Pwned&body=x") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
            request.Headers.Add("Cookie", $"orchestrator-token={TestApiTokens.Writer}");
            request.Headers.Add("Origin", "https://evil.example");
            var response = await browser.SendAsync(request, Cancel);
            // Refused: the cookie only reads, whatever token it holds (403), and a form is not JSON (415, for a body
            // the endpoint binds, before its policy is asked).
            Assert.Contains(response.StatusCode, new[] { HttpStatusCode.Forbidden, HttpStatusCode.UnsupportedMediaType });

            // And a write takes JSON only, even with the write token itself.
            using var withToken = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
            withToken.Headers.Authorization = new("Bearer", TestApiTokens.Writer);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await browser.SendAsync(withToken, Cancel)).StatusCode);
        }

        var item = Assert.Single((await rig.ListAsync()).Items);
        Assert.Equal(Ledger.WorkItemStatus.Accepted, item.Status);
    }

    [Fact]
    public async Task The_sign_in_cookie_is_HttpOnly_and_SameSite_Strict_and_a_bad_token_sets_none()
    {
        await using var rig = await IntakeRig.StartAsync();
        using var anonymous = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = rig.Intake.Address };

        var refused = await anonymous.PostAsJsonAsync("/api/session", new { token = TestApiTokens.RandomToken() }, Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));

        var signedIn = await anonymous.PostAsJsonAsync("/api/session", new { token = TestApiTokens.Reader }, Cancel);
        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        // Plain http here: Secure would make the browser drop it. Behind TLS it is set (ApiAccess.CookieOptions).
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);

        // Whatever token it holds, the cookie only reads: even a write token's cookie, sent with JSON, cannot act.
        var writerCookie = Assert.Single((await anonymous.PostAsJsonAsync("/api/session", new { token = TestApiTokens.Writer }, Cancel)).Headers.GetValues("Set-Cookie"));
        using var read = new HttpRequestMessage(HttpMethod.Get, "/api/work-items");
        read.Headers.Add("Cookie", writerCookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(read, Cancel)).StatusCode);
        using var write = new HttpRequestMessage(HttpMethod.Post, "/api/work-items") { Content = JsonContent.Create(new { title = "Through the cookie" }) };
        write.Headers.Add("Cookie", writerCookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(write, Cancel)).StatusCode);
        Assert.Equal(0, (await rig.ListAsync()).Total);
    }

    [Fact]
    public async Task The_status_page_in_a_browser_asks_for_the_token_then_lists_the_work_items()
    {
        await using var rig = await IntakeRig.StartAsync();
        var title = "Say <b>hello</b> to the browser";
        (await rig.Intake.Http.PostAsJsonAsync("/api/work-items", new { title }, Cancel)).EnsureSuccessStatusCode();

        var seen = await Browser.RunAsync("status-page.mjs", rig.Intake.Address.ToString(), TestApiTokens.Reader);

        Assert.Equal(401, seen.GetProperty("firstStatus").GetInt32());
        Assert.True(seen.GetProperty("askedForToken").GetBoolean());
        Assert.Equal(0, seen.GetProperty("rowsBefore").GetInt32());
        Assert.Contains("not valid", seen.GetProperty("wrongTokenError").GetString());
        var row = Assert.Single(seen.GetProperty("rows").EnumerateArray()).GetString()!;
        Assert.Contains(title, row);
        Assert.Contains("Accepted", row);
        Assert.True(seen.GetProperty("cookie").GetProperty("httpOnly").GetBoolean());
        Assert.Equal("Strict", seen.GetProperty("cookie").GetProperty("sameSite").GetString());
        Assert.False(seen.GetProperty("scriptSeesCookie").GetBoolean());
        Assert.Equal(200, seen.GetProperty("againStatus").GetInt32());
        Assert.False(seen.GetProperty("askedAgain").GetBoolean());
    }

    [Fact]
    public async Task A_JWT_from_the_identity_provider_is_accepted_by_its_roles_and_any_other_is_refused()
    {
        await using var idp = await FakeIdentityProvider.StartAsync();
        await using var rig = await IntakeRig.StartAsync(settings: new Dictionary<string, string?>
        {
            ["API_JWT_AUTHORITY"] = idp.Issuer,
            ["API_JWT_AUDIENCE"] = "orchestrator",
            ["API_JWT_REQUIRE_HTTPS"] = "false",
        });
        HttpClient With(string token) => new HttpClient { BaseAddress = rig.Intake.Address }.WithToken(token);
        using var writer = With(idp.Token("alice", "orchestrator", ["write"]));
        using var reader = With(idp.Token("bob", "orchestrator", ["read"]));
        using var nobody = With(idp.Token("carol", "orchestrator", []));
        using var otherAudience = With(idp.Token("mallory", "another-service", ["write"]));
        using var expired = With(idp.Token("mallory", "orchestrator", ["write"], lifetime: TimeSpan.FromMinutes(-5)));
        using var forged = With(idp.Token("mallory", "orchestrator", ["write"], signedBy: new Microsoft.IdentityModel.Tokens.RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "test-key" }));

        var submitted = await writer.PostAsJsonAsync("/api/work-items", new { title = "Say hello" }, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        Assert.Equal("api:alice", (await submitted.Content.ReadFromJsonAsync<WorkItemView>(IntakeRig.Json, Cancel))!.Author);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/work-items", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/work-items", new { title = "Hi" }, Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await nobody.GetAsync("/api/work-items", Cancel)).StatusCode);
        foreach (var refused in new[] { otherAudience, expired, forged })
            Assert.Equal(HttpStatusCode.Unauthorized, (await refused.PostAsJsonAsync("/api/work-items", new { title = "Hi" }, Cancel)).StatusCode);
        // The API tokens still work beside it.
        Assert.Equal(HttpStatusCode.OK, (await rig.Intake.Http.GetAsync("/api/work-items", Cancel)).StatusCode);
        Assert.Single((await rig.ListAsync()).Items);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string path) => method switch
    {
        "GET" => http.GetAsync(path, Cancel),
        _ => http.PostAsJsonAsync(path, new { title = "Anything" }, Cancel),
    };
}
