using System.Xml;
using Orchestrator.Contracts;

namespace Orchestrator.ToolGateway.Sandboxes;

public enum TestOutcome
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>
/// One run of the test command: how the command ended and, when it wrote JUnit XML or TRX results, each test's outcome.
/// Without results the command is the one test, passed when it exits with 0.
/// </summary>
public sealed record TestRun(string Command, CommandResult Result, IReadOnlyDictionary<string, TestOutcome>? Tests)
{
    public const int MaxResultBytes = 16 * 1024 * 1024;

    public IReadOnlyDictionary<string, TestOutcome> Outcomes =>
        Tests is { Count: > 0 } tests ? tests : new Dictionary<string, TestOutcome> { [$"`{Command}`"] = Result.Succeeded ? TestOutcome.Passed : TestOutcome.Failed };

    public TestCounts Counts => new(
        Outcomes.Values.Count(o => o == TestOutcome.Passed), Outcomes.Values.Count(o => o == TestOutcome.Failed),
        Outcomes.Values.Count(o => o == TestOutcome.Skipped), Result.ExitCode, Result.Duration, Tests is { Count: > 0 });

    public IEnumerable<string> Failing => Outcomes.Where(t => t.Value == TestOutcome.Failed).Select(t => t.Key);

    /// <summary>Runs the command in <paramref name="sandbox"/> and reads the results it wrote during this run (older files are not this run's).</summary>
    public static async Task<TestRun> RunAsync(Sandbox sandbox, TestSettings settings, string workspace, int outputBytes, CancellationToken cancellationToken)
    {
        var mark = settings.Results.Count > 0 ? await sandbox.MarkAsync(cancellationToken) : null;
        var result = await sandbox.ExecAsync(["/bin/sh", "-c", settings.Command], workspace, settings.Timeout, outputBytes, cancellationToken);
        Dictionary<string, TestOutcome>? tests = null;
        foreach (var path in settings.Results)
        {
            var file = await sandbox.ReadFileAsync(path.StartsWith('/') ? path : $"{workspace}/{path}", MaxResultBytes, cancellationToken, newerThan: mark);
            if (file is null)
                continue;
            tests ??= [];
            foreach (var (name, outcome) in Parse(file))
            {
                var unique = name;
                for (var i = 2; tests.ContainsKey(unique); i++)
                    unique = $"{name} #{i}";
                tests[unique] = outcome;
            }
        }
        return new TestRun(settings.Command, result, tests);
    }

    /// <summary>The tests of a JUnit XML or TRX document; a document that is neither, or is malformed, gives none.</summary>
    public static IEnumerable<(string Name, TestOutcome Outcome)> Parse(byte[] document)
    {
        var found = new List<(string, TestOutcome)>();
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxResultBytes,
            IgnoreComments = true,
        };
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(document), settings);
            // JUnit: <testcase classname name> with <failure>, <error> or <skipped> inside.
            string? testcase = null;
            var outcome = TestOutcome.Passed;
            var depth = -1;
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "testcase")
                {
                    if (testcase is not null)
                        found.Add((testcase, outcome));
                    var (className, name) = (reader.GetAttribute("classname"), reader.GetAttribute("name") ?? "(unnamed)");
                    testcase = string.IsNullOrEmpty(className) ? name : $"{className} › {name}";
                    outcome = TestOutcome.Passed;
                    depth = reader.Depth;
                    if (reader.IsEmptyElement)
                    {
                        found.Add((testcase, outcome));
                        testcase = null;
                    }
                }
                else if (reader.NodeType == XmlNodeType.Element && testcase is not null && reader.Depth == depth + 1)
                {
                    outcome = reader.LocalName switch
                    {
                        "failure" or "error" => TestOutcome.Failed,
                        "skipped" when outcome != TestOutcome.Failed => TestOutcome.Skipped,
                        _ => outcome,
                    };
                }
                else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "testcase" && testcase is not null)
                {
                    found.Add((testcase, outcome));
                    testcase = null;
                }
                // TRX: <UnitTestResult testName outcome>.
                else if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "UnitTestResult")
                {
                    found.Add((reader.GetAttribute("testName") ?? "(unnamed)", reader.GetAttribute("outcome") switch
                    {
                        "Passed" or "PassedButRunAborted" or "Warning" => TestOutcome.Passed,
                        "NotExecuted" or "Inconclusive" or "NotRunnable" or "Pending" or "Disconnected" => TestOutcome.Skipped,
                        _ => TestOutcome.Failed,
                    }));
                }
            }
        }
        catch (XmlException)
        {
            // Written by the repository's tests: what could be read counts, the rest does not.
        }
        return found;
    }
}
