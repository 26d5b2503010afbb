using System.Text;
using Orchestrator.ToolGateway.Sandboxes;

namespace Orchestrator.ToolGateway.Tests;

/// <summary>What a repository writes about its environment is hostile: it is read within limits, and nothing in it leaves the repository.</summary>
public sealed class SandboxDescriptionTests
{
    [Fact]
    public void A_devcontainer_json_gives_its_dockerfile_context_variables_and_lifecycle_commands_in_every_form()
    {
        var description = DevContainer.Parse(".devcontainer/devcontainer.json", """
            {
              // comments and trailing commas, as editors write them
              "build": { "dockerfile": "../docker/Dockerfile", "context": "..", "args": { "VARIANT": "20" } },
              "containerEnv": { "MODE": "test" },
              "remoteUser": "vscode",
              "onCreateCommand": "npm ci",
              "updateContentCommand": ["npm", "run", "build"],
              "postCreateCommand": { "one": "echo 1", "two": ["echo", "2"] },
              "features": {}, "forwardPorts": [3000],
            }
            """);

        Assert.Equal("docker/Dockerfile", description.Dockerfile);
        Assert.Equal("", description.Context);
        Assert.Null(description.Image);
        Assert.Equal("20", description.BuildArgs["VARIANT"]);
        Assert.Equal("test", description.ContainerEnv["MODE"]);
        Assert.Equal("vscode", description.RemoteUser);
        Assert.Equal(["onCreateCommand", "updateContentCommand", "postCreateCommand.one", "postCreateCommand.two"], description.Lifecycle.Select(c => c.Name));
        Assert.Equal(["/bin/sh", "-c", "npm ci"], description.Lifecycle[0].Argv);
        Assert.Equal(["npm", "run", "build"], description.Lifecycle[1].Argv);
        Assert.Equal(["features", "forwardPorts"], description.Unsupported);
        Assert.Equal("mcr.microsoft.com/devcontainers/base:bookworm",
            DevContainer.Parse(".devcontainer.json", """{"image": "mcr.microsoft.com/devcontainers/base:bookworm"}""").Image);
    }

    [Theory]
    [InlineData("""{"build": {"dockerfile": "../../etc/Dockerfile"}}""", "outside the repository")]
    [InlineData("""{"build": {"dockerfile": "Dockerfile", "context": "../.."}}""", "outside the repository")]
    [InlineData("""{"build": {"dockerfile": "/etc/passwd"}}""", "must be relative")]
    [InlineData("""{"image": "--privileged"}""", "image is not an image name")]
    [InlineData("""{"image": "alpine", "containerEnv": {"LD_PRELOAD=x": "y"}}""", "not a variable name")]
    [InlineData("""{"image": "alpine", "containerEnv": {"A": "x\ny"}}""", "line break")]
    [InlineData("""{"image": "alpine", "remoteUser": "root; rm -rf /"}""", "remoteUser is not a user name")]
    [InlineData("""{"image": "alpine", "postCreateCommand": 42}""", "postCreateCommand must be")]
    [InlineData("""{"name": "nothing to run"}""", "names neither an image nor a build.dockerfile")]
    [InlineData("""[1, 2]""", "not a JSON object")]
    [InlineData("""{"image": """, "not valid JSON")]
    public void A_devcontainer_json_that_reaches_outside_or_smuggles_arguments_is_refused_saying_why(string json, string why)
    {
        var error = Assert.Throws<SandboxException>(() => DevContainer.Parse(".devcontainer/devcontainer.json", json));
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void The_test_settings_name_a_command_results_and_a_timeout_held_to_the_operators_limit()
    {
        var settings = TestSettings.Parse("test:\n  command: npm test\n  results: [reports/junit.xml, /tmp/trx/results.trx]\n  timeout: 9999\n", TimeSpan.FromMinutes(5))!;
        Assert.Equal("npm test", settings.Command);
        Assert.Equal(["reports/junit.xml", "/tmp/trx/results.trx"], settings.Results);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.Timeout);
        Assert.Equal("make check", TestSettings.Parse("test: make check\n", TimeSpan.FromMinutes(5))!.Command);
        Assert.Null(TestSettings.Parse("lint: npm run lint\n", TimeSpan.FromMinutes(5)));
        Assert.Contains("without '..'", Assert.Throws<SandboxException>(() => TestSettings.Parse("test:\n  command: x\n  results: ../../etc/shadow\n", TimeSpan.FromMinutes(5))).Message);
        Assert.Contains("not valid YAML", Assert.Throws<SandboxException>(() => TestSettings.Parse("test: [unclosed\n", TimeSpan.FromMinutes(5))).Message);
        Assert.Contains("whole number", Assert.Throws<SandboxException>(() => TestSettings.Parse("test:\n  command: x\n  timeout: soon\n", TimeSpan.FromMinutes(5))).Message);
    }

    [Fact]
    public void Junit_and_trx_results_are_counted_test_by_test_and_a_document_type_definition_is_never_read()
    {
        var junit = TestRun.Parse(Encoding.UTF8.GetBytes("""
            <testsuites><testsuite name="s">
              <testcase classname="math" name="adds"/>
              <testcase classname="math" name="subtracts"><failure message="no"/></testcase>
              <testcase classname="math" name="divides"><skipped/></testcase>
              <testcase name="crashes"><error/></testcase>
            </testsuite></testsuites>
            """)).ToList();
        Assert.Equal([("math › adds", TestOutcome.Passed), ("math › subtracts", TestOutcome.Failed), ("math › divides", TestOutcome.Skipped), ("crashes", TestOutcome.Failed)], junit);

        var trx = TestRun.Parse(Encoding.UTF8.GetBytes("""
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>
              <UnitTestResult testName="Adds" outcome="Passed"/><UnitTestResult testName="Fails" outcome="Failed"/><UnitTestResult testName="Later" outcome="NotExecuted"/>
            </Results></TestRun>
            """)).ToList();
        Assert.Equal([("Adds", TestOutcome.Passed), ("Fails", TestOutcome.Failed), ("Later", TestOutcome.Skipped)], trx);

        // An entity that would read a file of the gateway's, or expand without end: the document is refused, nothing is read.
        var hostile = TestRun.Parse(Encoding.UTF8.GetBytes("""
            <!DOCTYPE t [<!ENTITY secret SYSTEM "file:///proc/self/environ">]>
            <testsuites><testcase name="&secret;"/></testsuites>
            """));
        Assert.Empty(hostile);
    }

    [Fact]
    public void A_folders_size_never_goes_through_a_link_however_the_links_loop()
    {
        var folder = Orchestrator.Testing.TestPaths.NewTempDirectory("sizes");
        try
        {
            File.WriteAllBytes(Path.Combine(folder, "real"), new byte[1000]);
            Directory.CreateDirectory(Path.Combine(folder, "d"));
            File.WriteAllBytes(Path.Combine(folder, "d", "more"), new byte[24]);
            Directory.CreateSymbolicLink(Path.Combine(folder, "a"), ".");
            Directory.CreateSymbolicLink(Path.Combine(folder, "d", "b"), "..");
            Directory.CreateSymbolicLink(Path.Combine(folder, "root"), "/");
            File.CreateSymbolicLink(Path.Combine(folder, "environ"), "/proc/self/environ");

            Assert.Equal(1024, Orchestrator.ToolGateway.Workspaces.Folders.Size(folder));
        }
        finally
        {
            Orchestrator.Testing.TestPaths.DeleteDirectory(folder);
        }
    }
}
