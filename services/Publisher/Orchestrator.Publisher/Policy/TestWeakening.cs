using System.Text.RegularExpressions;
using Orchestrator.Contracts;
using Orchestrator.ServiceDefaults;

namespace Orchestrator.Publisher.Policy;

/// <summary>
/// Changes that make tests or CI pass by not running them: a test file deleted, a skip added in the common forms of the
/// common frameworks, a CI step allowed to fail. Only what the change adds counts: a skip the file already had at the
/// base commit is the repository's. Found on the files as they would be written, as the secret scan is.
/// </summary>
public static partial class TestWeakening
{
    // Every pattern without backtracking: a line can be as long as a file (PUBLISH_MAX_BYTES), and it is the agent's.
    // Each form in the files of its language only: `items.Skip(1)` is LINQ in C#, a skipped test in Go.
    private static readonly (string Kind, string[] Extensions, Regex Pattern)[] Skips =
    [
        ("a skipped JavaScript test", [".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"], JavaScriptSkip()),
        ("a skipped .NET test", [".cs", ".fs", ".vb"], DotNetSkip()),
        ("a skipped Python test", [".py"], PythonSkip()),
        ("a skipped Go test", [".go"], GoSkip()),
        ("a disabled Java test", [".java", ".kt"], JavaSkip()),
        ("an ignored Rust test", [".rs"], RustSkip()),
        ("a CI step allowed to fail (continue-on-error)", [".yml", ".yaml"], ContinueOnError()),
    ];

    public static async Task<IReadOnlyList<string>> FindAsync(ChangesProposed change,
        Func<ChangesProposed, ChangedFile, CancellationToken, Task<HashSet<string>>> baseLines, CancellationToken cancellationToken)
    {
        var refusals = new List<string>();
        foreach (var file in change.Files)
        {
            if (file.Change == FileChange.Deleted)
            {
                if (IsTestFile(file.Path))
                    refusals.Add($"{DisplayText.Path(file.Path)} is a test file and the change deletes it; deleting tests is not published (PUBLISH_ALLOW_TEST_WEAKENING)");
                continue;
            }
            var extension = Path.GetExtension(file.Path).ToLowerInvariant();
            var forms = Skips.Where(s => s.Extensions.Contains(extension)).ToList();
            if (forms.Count == 0)
                continue;
            var found = PublishPolicy.Lines(PublishPolicy.Text(file))
                .SelectMany(line => forms.Where(s => s.Pattern.IsMatch(line)).Select(s => (Line: line, s.Kind))).ToList();
            if (found.Count == 0)
                continue;
            var old = await baseLines(change, file, cancellationToken);
            foreach (var kind in found.Where(f => !old.Contains(f.Line)).Select(f => f.Kind).Distinct())
                refusals.Add($"{DisplayText.Path(file.Path)} adds {kind}; weakening tests is not published (PUBLISH_ALLOW_TEST_WEAKENING)");
        }
        return refusals;
    }

    /// <summary>A file that holds tests, by the conventions of the common languages.</summary>
    public static bool IsTestFile(string path) => TestPath().IsMatch(path);

    [GeneratedRegex(@"(^|/)(tests?|specs?|__tests__)/|(^|/)[^/]*([._-](test|spec)s?\.[a-z0-9]+|Tests?\.(cs|java|kt|fs|vb)|_test\.(go|py|rb|exs?)|_spec\.rb)$|(^|/)test_[^/]*\.py$",
        RegexOptions.IgnoreCase | RegexOptions.NonBacktracking)]
    private static partial Regex TestPath();

    // it.skip(, test.skip(, describe.skip(, xit(, xdescribe(, and node:test's test('…', { skip: true }, …)
    [GeneratedRegex(@"\b(it|test|describe|suite|context)\s*\.\s*skip\s*\(|\bx(it|describe|test)\s*\(|\b(it|test|describe)\s*\(.*\{\s*skip\s*:\s*(true|['""`])", RegexOptions.NonBacktracking)]
    private static partial Regex JavaScriptSkip();

    // [Fact(Skip = "…")], [Theory(Skip = …)], [Ignore], [Ignore("…")]
    [GeneratedRegex(@"\[\s*(Fact|Theory|SkippableFact)\s*\([^\]]*\bSkip\s*=|\[\s*Ignore\s*(\(|\])", RegexOptions.NonBacktracking)]
    private static partial Regex DotNetSkip();

    // @pytest.mark.skip, @pytest.mark.skipif, @unittest.skip, pytest.skip(
    [GeneratedRegex(@"@\s*pytest\.mark\.skip|@\s*unittest\.skip|\bpytest\.skip\s*\(", RegexOptions.NonBacktracking)]
    private static partial Regex PythonSkip();

    // t.Skip(…), t.Skipf(…), t.SkipNow(), b.Skip(…)
    [GeneratedRegex(@"\b(t|b|tb|f)\.Skip(f|Now)?\s*\(", RegexOptions.NonBacktracking)]
    private static partial Regex GoSkip();

    [GeneratedRegex(@"@\s*(Disabled|Ignore)\b", RegexOptions.NonBacktracking)]
    private static partial Regex JavaSkip();

    [GeneratedRegex(@"#\s*\[\s*ignore\b", RegexOptions.NonBacktracking)]
    private static partial Regex RustSkip();

    [GeneratedRegex(@"\bcontinue-on-error\s*:\s*(true|\$\{\{)", RegexOptions.NonBacktracking)]
    private static partial Regex ContinueOnError();
}
