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

    /// <summary>
    /// Every test's outcome, for comparing runs: the tests the results name and, always, the command itself (passed when it
    /// exits with 0 in time), so results that say "passed" from a run that crashed or timed out do not pass.
    /// </summary>
    public IReadOnlyDictionary<string, TestOutcome> Outcomes
    {
        get
        {
            var outcomes = new Dictionary<string, TestOutcome>(Tests ?? new Dictionary<string, TestOutcome>())
            {
                [CommandName] = Result.Succeeded ? TestOutcome.Passed : TestOutcome.Failed,
            };
            return outcomes;
        }
    }

    /// <summary>The command as a test of its own: its exit code.</summary>
    public string CommandName => $"`{Command}` exits with 0";

    /// <summary>The counts a person reads: the results' tests when there are any, else the command as the one test.</summary>
    public TestCounts Counts
    {
        get
        {
            var counted = Tests is { Count: > 0 } tests ? tests : new Dictionary<string, TestOutcome> { [CommandName] = Outcomes[CommandName] };
            return new(counted.Values.Count(o => o == TestOutcome.Passed), counted.Values.Count(o => o == TestOutcome.Failed),
                counted.Values.Count(o => o == TestOutcome.Skipped), Result.ExitCode, Result.Duration, Tests is { Count: > 0 });
        }
    }

    public IEnumerable<string> Failing => (Tests is { Count: > 0 } tests ? tests : Outcomes).Where(t => t.Value == TestOutcome.Failed).Select(t => t.Key);

    private const int MaxTests = 20_000;
    private const int MaxNameChars = 300;

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
            while (reader.Read() && found.Count < MaxTests)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "testcase")
                {
                    if (testcase is not null)
                        found.Add((testcase, outcome));
                    var (className, name) = (reader.GetAttribute("classname"), reader.GetAttribute("name") ?? "(unnamed)");
                    testcase = Name(string.IsNullOrEmpty(className) ? name : $"{className} › {name}");
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
                    found.Add((Name(reader.GetAttribute("testName") ?? "(unnamed)"), reader.GetAttribute("outcome") switch
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

    /// <summary>A test's name as it is kept: one line, at most <see cref="MaxNameChars"/> characters.</summary>
    private static string Name(string name)
    {
        var line = name.ReplaceLineEndings(" ");
        return line.Length <= MaxNameChars ? line : line[..MaxNameChars] + "…";
    }
}
