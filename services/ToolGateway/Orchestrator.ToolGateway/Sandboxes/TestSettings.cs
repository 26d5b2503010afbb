using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// The repository's test command, from <c>.orchestrator.yml</c> on the base commit:
/// <code>
/// test:
///   command: npm test            # run by /bin/sh in the repository's root, in the sandbox
///   results: [reports/junit.xml] # JUnit XML or TRX files it writes (optional; relative to the repository, or absolute
///                                # in the sandbox, e.g. /tmp/junit.xml): tests are then counted one by one
///   timeout: 300                 # seconds (optional; at most SANDBOX_TEST_TIMEOUT)
/// </code>
/// (<c>test: npm test</c> alone is the command). Without the file, the operator's SANDBOX_TEST_COMMAND.
/// </summary>
public sealed record TestSettings(string Command, IReadOnlyList<string> Results, TimeSpan Timeout, string Source)
{
    public const string FileName = ".orchestrator.yml";
    public const int MaxBytes = 16 * 1024;

    /// <summary>The settings the file gives (null when it names no test command); throws <see cref="SandboxException"/> when it cannot be read.</summary>
    public static TestSettings? Parse(string text, TimeSpan maxTimeout)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new SandboxException($"{FileName} is not valid YAML: {e.Message}");
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            return null;
        if (!root.Children.TryGetValue(new YamlScalarNode("test"), out var test))
            return null;
        string? command;
        List<string> results = [];
        var timeout = maxTimeout;
        switch (test)
        {
            case YamlScalarNode scalar:
                command = scalar.Value;
                break;
            case YamlMappingNode mapping:
                command = Scalar(mapping, "command");
                if (mapping.Children.TryGetValue(new YamlScalarNode("results"), out var r))
                {
                    results = r switch
                    {
                        YamlScalarNode one when one.Value is { Length: > 0 } v => [v],
                        YamlSequenceNode many => [.. many.Children.Select(c => (c as YamlScalarNode)?.Value
                            ?? throw new SandboxException($"{FileName}: test.results must be a list of paths"))],
                        _ => throw new SandboxException($"{FileName}: test.results must be a path or a list of paths"),
                    };
                }
                if (Scalar(mapping, "timeout") is { } seconds)
                {
                    if (!int.TryParse(seconds, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s) || s < 1)
                        throw new SandboxException($"{FileName}: test.timeout must be a whole number of seconds");
                    timeout = TimeSpan.FromSeconds(Math.Min(s, maxTimeout.TotalSeconds));
                }
                break;
            default:
                throw new SandboxException($"{FileName}: test must be a command or a mapping with command, results and timeout");
        }
        if (string.IsNullOrWhiteSpace(command))
            return null;
        if (command.Contains('\0', StringComparison.Ordinal) || command.Length > 4096)
            throw new SandboxException($"{FileName}: test.command is longer than 4096 characters or holds a NUL");
        foreach (var path in results)
        {
            if (path.Split('/').Contains("..") || path.Length > 512 || path.Contains('\0', StringComparison.Ordinal))
                throw new SandboxException($"{FileName}: test.results must be paths in the sandbox without '..' (relative ones are in the repository)");
        }
        return new TestSettings(command.Trim(), results.Take(16).ToList(), timeout, FileName);
    }

    private static string? Scalar(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value
            ?? throw new SandboxException($"{FileName}: test.{key} must be a single value") : null;
}
