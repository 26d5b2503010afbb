using System.Diagnostics;
using Orchestrator.Testing;

namespace Orchestrator.ServiceDefaults.Tests;

/// <summary>The real service hosts, started as processes with a broken configuration, stop with one line naming the setting.</summary>
public sealed class StartupConfigurationTests
{
    public static TheoryData<string> Services => ["Intake", "Planner", "ToolGateway", "Publisher"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Service_refuses_to_start_without_RABBITMQ_URL(string service)
    {
        var (exitCode, stdout, stderr) = await RunHostAsync(service, rabbitMqUrl: null);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"Orchestrator.{service}.Host: configuration error: RABBITMQ_URL is required (amqp://user:password@host:5672/vhost)", line);
        Assert.DoesNotContain("Exception", stdout);
    }

    [Theory]
    [InlineData("Intake", "http://rabbit:5672/")]
    [InlineData("Planner", "amqp://user:s3cret-value@")]
    [InlineData("ToolGateway", "not a url s3cret-value")]
    [InlineData("Publisher", "rabbitmq")]
    public async Task Service_refuses_to_start_with_a_malformed_RABBITMQ_URL_without_echoing_it(string service, string malformed)
    {
        var (exitCode, _, stderr) = await RunHostAsync(service, malformed);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("configuration error: RABBITMQ_URL is not a valid amqp:// or amqps:// URL", line);
        Assert.DoesNotContain("s3cret", stderr);
    }

    [Fact]
    public async Task Every_problem_is_named_on_the_one_line()
    {
        var (exitCode, _, stderr) = await RunHostAsync("Planner", rabbitMqUrl: null, ("PLANNER_MAX_CONCURRENT_RUNS", "0"));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("RABBITMQ_URL is required", line);
        Assert.Contains("PLANNER_MAX_CONCURRENT_RUNS must be at least 1", line);
    }

    [Fact]
    public async Task A_broken_MCP_catalog_entry_is_named_by_its_index()
    {
        var (exitCode, _, stderr) = await RunHostAsync("ToolGateway", "amqp://guest:guest@127.0.0.1:1/",
            ("MCP_SERVERS__4__Name", "extra"), ("TOOL_CALL_TIMEOUT", "-00:00:01"));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("MCP_SERVERS:4:Image is required with MCP_LAUNCHER=Docker", line);
        Assert.Contains("TOOL_CALL_TIMEOUT must be positive", line);
    }

    [Fact]
    public async Task Publisher_refuses_to_start_without_GitHub_credentials_unless_it_is_a_dry_run()
    {
        var (exitCode, _, stderr) = await RunHostAsync("Publisher", "amqp://guest:guest@127.0.0.1:1/", ("PUBLISH_DRY_RUN", "false"));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("GITHUB_TOKEN (or GITHUB_APP_ID with its private key) is required, unless PUBLISH_DRY_RUN=true", line);

        (exitCode, _, stderr) = await RunHostAsync("Publisher", "amqp://guest:guest@127.0.0.1:1/", ("PUBLISH_DRY_RUN", "false"),
            ("GITHUB_APP_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----s3cret"));
        Assert.Equal(2, exitCode);
        Assert.EndsWith("GITHUB_APP_PRIVATE_KEY is set without GITHUB_APP_ID", stderr.Trim());
        Assert.DoesNotContain("s3cret", stderr);
    }

    [Fact]
    public async Task Planner_refuses_to_start_without_a_key_for_the_OpenAI_API_or_a_price_for_its_cost_budget()
    {
        var (exitCode, _, stderr) = await RunHostAsync("Planner", "amqp://guest:guest@127.0.0.1:1/", ("OPENAI_API_KEY", ""));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("OPENAI_API_KEY is required for the OpenAI API (set OPENAI_BASE_URL for an endpoint that needs no key)", line);

        // A local model needs no key, but has no price: the cost budget cannot hold unless it is turned off or priced.
        (exitCode, _, stderr) = await RunHostAsync("Planner", "amqp://guest:guest@127.0.0.1:1/", ("OPENAI_API_KEY", ""),
            ("OPENAI_BASE_URL", "http://ollama:11434/v1"), ("OPENAI_MODEL", "llama3.1"), ("LLM_PRICES", "gpt-4o=2.5/10"));
        Assert.Equal(2, exitCode);
        line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith("PLANNER_MAX_COST needs a price for OPENAI_MODEL llama3.1: add it to LLM_PRICES (model=input/output per million tokens), or set PLANNER_MAX_COST=0", line);

        (exitCode, _, stderr) = await RunHostAsync("Planner", "amqp://guest:guest@127.0.0.1:1/", ("LLM_PRICES", "gpt-4o=2.5/10;broken"));
        Assert.Equal(2, exitCode);
        Assert.EndsWith("LLM_PRICES: \"broken\" is not model=input/output (US dollars per million tokens, e.g. gpt-4o=2.5/10)", stderr.Trim());
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_named_by_its_setting()
    {
        var (exitCode, _, stderr) = await RunHostAsync("Planner", "amqp://guest:guest@127.0.0.1:1/", ("PLANNER_MAX_CONCURRENT_RUNS", "many"));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("PLANNER_MAX_CONCURRENT_RUNS", line);
        Assert.DoesNotContain("many", line);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunHostAsync(
        string service, string? rabbitMqUrl, params (string Name, string Value)[] settings)
    {
        var dll = TestPaths.ServiceHostDll(service);
        // Started from its own folder, as in its container, so it reads its appsettings.json.
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll),
        };
        start.Environment.Remove("RABBITMQ_URL");
        if (rabbitMqUrl is not null)
            start.Environment["RABBITMQ_URL"] = rabbitMqUrl;
        start.Environment["DATABASE_PATH"] = Path.Combine(TestPaths.NewTempDirectory("startup"), "service.db");
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        // Publisher writes to GitHub only with credentials; these tests are about other settings.
        start.Environment["PUBLISH_DRY_RUN"] = "true";
        // The Planner needs a key for the OpenAI API (the default endpoint); one test takes it away.
        start.Environment["OPENAI_API_KEY"] = "startup-test-key";
        foreach (var (name, value) in settings)
            start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
