using System.Text.Json;
using Orchestrator.Contracts;
using Orchestrator.Testing;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>A secret the catalog gives one server reaches that server's environment and nothing else.</summary>
public sealed class SecretTests
{
    private const string Secret = "ghp_s3cr3t-0f-the-probe-4c9e1b";

    [Fact]
    public async Task A_secret_given_to_one_server_appears_nowhere_else()
    {
        var holder = TestCatalog.Probe with { Secrets = new Dictionary<string, string> { ["PROBE_TOKEN"] = "PROBE_SECRET" } };
        var other = new TestServer("other", "Workspace", TestCatalog.ProbeImage);
        // Everything logged, down to the MCP SDK's traces of whole messages.
        await using var gateway = await TestGateway.StartAsync([holder, other, TestCatalog.Filesystem],
            ("PROBE_SECRET", Secret), ("Logging:LogLevel:Default", "Trace"));
        var session = await gateway.OpenAsync();

        // The holder has it, and what it says about it leaves the gateway redacted.
        var holderEnvironment = await gateway.CallTextAsync(session, "probe", "environment");
        Assert.Contains("PROBE_TOKEN=[redacted]", holderEnvironment);
        var echoed = await gateway.CallTextAsync(session, "probe", "echo", new { text = $"the token is {Secret}" });
        Assert.Equal("the token is [redacted]", echoed);
        // The other server's environment does not have it.
        var otherEnvironment = await gateway.CallTextAsync(session, "other", "environment");
        Assert.DoesNotContain("PROBE_TOKEN", otherEnvironment);

        // Containers: only the holder's environment has the value; no command line anywhere has it.
        foreach (var name in await gateway.ContainersAsync())
        {
            var container = await Docker.InspectAsync(name);
            var server = container.GetProperty("Config").GetProperty("Labels").GetProperty("org.orchestrator.server").GetString();
            var environment = container.GetProperty("Config").GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToList();
            if (server == "probe")
                Assert.Contains($"PROBE_TOKEN={Secret}", environment);
            else
                Assert.DoesNotContain(environment, e => e.Contains(Secret, StringComparison.Ordinal));
            var commandLine = container.GetProperty("Path").GetString() + " " + container.GetProperty("Args").ToString()
                + " " + container.GetProperty("Config").GetProperty("Cmd").ToString();
            Assert.DoesNotContain(Secret, commandLine);
        }
        foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            string commandLine;
            try
            {
                commandLine = (await File.ReadAllTextAsync(Path.Combine(process, "cmdline"), TestContext.Current.CancellationToken)).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue; // exited meanwhile
            }
            Assert.DoesNotContain(Secret, commandLine);
        }

        // Messages and logs.
        Assert.NotEmpty(gateway.Recorder.Messages);
        Assert.All(gateway.Recorder.Messages, m => Assert.DoesNotContain(Secret, JsonSerializer.Serialize(m.Message, m.Message.GetType())));
        Assert.Contains(gateway.Gateway.Logs, l => l.Contains("[redacted]", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Gateway.Logs, l => l.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_held_to_one_repository_offers_and_serves_only_calls_that_name_the_work_items()
    {
        var github = TestCatalog.Probe with { OneRepository = true };
        await using var gateway = await TestGateway.StartAsync([github, TestCatalog.Filesystem]);
        var session = await gateway.OpenAsync();

        // Only the tools that say which repository they reach are offered.
        Assert.Equal(["repo_info"], session.Tools.Where(t => t.Server == "probe").Select(t => t.Name));
        Assert.Equal("acme/widgets", await gateway.CallTextAsync(session, "probe", "repo_info", new { owner = "acme", repo = "widgets" }));
        foreach (var arguments in new object[] { new { owner = "victim-org", repo = "private-infra" }, new { owner = "acme", repo = "other" }, new { repo = "widgets" },
            new { owner = "acme", repo = "widgets", query = "secret repo:victim-org/private-infra" } })
        {
            var (_, failed) = await gateway.CallAsync(session, "probe", "repo_info", arguments);
            Assert.Equal(ToolFailureReason.Denied, failed?.Reason);
            Assert.Contains("may reach only the work item's repository (acme/widgets)", failed!.Message);
        }
        Assert.Equal(ToolFailureReason.Denied, (await gateway.CallAsync(session, "probe", "environment")).Failed?.Reason);
        // A tool it does not offer stays refused even when the call names the repository.
        var unlisted = await gateway.CallAsync(session, "probe", "echo", new { owner = "acme", repo = "widgets", text = "hi" });
        Assert.Equal(ToolFailureReason.Denied, unlisted.Failed?.Reason);
    }
}
