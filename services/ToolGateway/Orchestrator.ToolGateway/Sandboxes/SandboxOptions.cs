using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// The sandbox a workspace's commands run in (the catalog's built-in <c>sandbox</c> server): its image when the repository
/// describes none, its network while it is set up, its limits, and the test command when the repository names none.
/// </summary>
public sealed partial class SandboxOptions : IValidatedOptions
{
    /// <summary>The image for repositories without a devcontainer.json (or whose description cannot be used).</summary>
    [ConfigurationKeyName("SANDBOX_DEFAULT_IMAGE")]
    public string DefaultImage { get; set; } = "mcr.microsoft.com/devcontainers/base:bookworm";

    /// <summary>
    /// The Docker network building the image and the lifecycle commands (onCreateCommand, updateContentCommand,
    /// postCreateCommand) get, for restoring dependencies: "none" (the default) or a network such as "bridge". The agent's
    /// commands and the tests always run with none.
    /// </summary>
    [ConfigurationKeyName("SANDBOX_SETUP_NETWORK")]
    public string SetupNetwork { get; set; } = "none";

    /// <summary>How long building a repository's image may take.</summary>
    [ConfigurationKeyName("SANDBOX_BUILD_TIMEOUT")]
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the lifecycle commands may take, together.</summary>
    [ConfigurationKeyName("SANDBOX_SETUP_TIMEOUT")]
    public TimeSpan SetupTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>run_command's timeout when the agent gives none.</summary>
    [ConfigurationKeyName("SANDBOX_COMMAND_TIMEOUT")]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest timeout the agent may ask of run_command.</summary>
    [ConfigurationKeyName("SANDBOX_COMMAND_MAX_TIMEOUT")]
    public TimeSpan CommandMaxTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The test command when the repository's .orchestrator.yml names none (empty: none).</summary>
    [ConfigurationKeyName("SANDBOX_TEST_COMMAND")]
    public string? TestCommand { get; set; }

    /// <summary>How long one run of the test command may take (run_tests, and each side of verification).</summary>
    [ConfigurationKeyName("SANDBOX_TEST_TIMEOUT")]
    public TimeSpan TestTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many images built from repositories' Dockerfiles this deployment keeps (the newest); older ones are removed.</summary>
    [ConfigurationKeyName("SANDBOX_IMAGES_KEEP")]
    public int ImagesKept { get; set; } = 20;

    [ConfigurationKeyName("SANDBOX_MEMORY")]
    public string Memory { get; set; } = "2g";

    [ConfigurationKeyName("SANDBOX_CPUS")]
    public string Cpus { get; set; } = "1";

    [ConfigurationKeyName("SANDBOX_PIDS")]
    public int Pids { get; set; } = 512;

    /// <summary>How much of a command's output the agent sees: this many bytes of its start and as many of its end, per stream.</summary>
    [ConfigurationKeyName("SANDBOX_OUTPUT_BYTES")]
    public int OutputBytes { get; set; } = 8 * 1024;

    /// <summary>The longest a call to the sandbox server may take: the longest command or test run, and a margin.</summary>
    public TimeSpan CallTimeout => (CommandMaxTimeout > TestTimeout ? CommandMaxTimeout : TestTimeout) + TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(DefaultImage))
            yield return "SANDBOX_DEFAULT_IMAGE must name an image";
        if (!NetworkName().IsMatch(SetupNetwork) || SetupNetwork is "host" || SetupNetwork.StartsWith("container:", StringComparison.Ordinal))
            yield return "SANDBOX_SETUP_NETWORK must be none or the name of a Docker network (not host)";
        foreach (var (name, value) in new[] {
            ("SANDBOX_BUILD_TIMEOUT", BuildTimeout), ("SANDBOX_SETUP_TIMEOUT", SetupTimeout), ("SANDBOX_COMMAND_TIMEOUT", CommandTimeout),
            ("SANDBOX_COMMAND_MAX_TIMEOUT", CommandMaxTimeout), ("SANDBOX_TEST_TIMEOUT", TestTimeout) })
        {
            if (value <= TimeSpan.Zero)
                yield return $"{name} must be positive";
        }
        if (CommandTimeout > CommandMaxTimeout)
            yield return "SANDBOX_COMMAND_TIMEOUT must not be over SANDBOX_COMMAND_MAX_TIMEOUT";
        if (ImagesKept < 1)
            yield return "SANDBOX_IMAGES_KEEP must be at least 1";
        if (Pids < 16)
            yield return "SANDBOX_PIDS must be at least 16";
        if (OutputBytes is < 256 or > 256 * 1024)
            yield return "SANDBOX_OUTPUT_BYTES must be between 256 and 262144";
        if (!Limit().IsMatch(Memory))
            yield return "SANDBOX_MEMORY must be a size such as 2g or 512m";
        if (!decimal.TryParse(Cpus, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var cpus) || cpus <= 0)
            yield return "SANDBOX_CPUS must be a positive number";
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex NetworkName();

    [GeneratedRegex("^[0-9]+[bkmg]?$")]
    private static partial Regex Limit();
}
