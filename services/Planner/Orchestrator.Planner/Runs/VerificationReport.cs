using System.Globalization;
using System.Text;
using Orchestrator.Contracts;

namespace Orchestrator.Planner.Runs;

/// <summary>
/// The pull request's verification section: the command, the counts before and after, the duration, and which tests
/// changed. Test names come from files the tests write (the agent could have written them), so each is code, never
/// Markdown: no link, mention or table of its making.
/// </summary>
public static class VerificationReport
{
    private const int MaxListed = 10;

    public static string Markdown(Verification verification)
    {
        var text = new StringBuilder("\n\n### Verification\n\n");
        if (verification.Status is VerificationStatus.NotConfigured or VerificationStatus.Unavailable || verification.Before is null || verification.After is null)
            return text.Append("**Not verified.** ").Append(Plain(verification.Detail)).Append('\n').ToString();

        text.Append("| Command | Base commit | This change | Duration |\n|---|---|---|---|\n")
            .Append(CultureInfo.InvariantCulture, $"| {Code(verification.Command ?? "")} | {Counts(verification.Before)} | {Counts(verification.After)} | {verification.After.Duration.TotalSeconds:0.0} s |\n\n")
            .Append(verification.Status == VerificationStatus.Passed ? "No test that passed on the base commit fails with this change.\n" : "**Tests fail with this change that passed on the base commit.**\n");
        List("Newly failing", verification.NewlyFailing);
        List("Newly passing", verification.NewlyPassing);
        List("Still failing (already failing on the base commit)", verification.StillFailing);
        if (!verification.After.FromResults)
            text.Append("\nThe command wrote no test results: its exit code counts as one test.\n");
        return text.ToString();

        void List(string title, IReadOnlyList<string> names)
        {
            if (names.Count == 0)
                return;
            text.Append(CultureInfo.InvariantCulture, $"\n{title}: ").Append(string.Join(", ", names.Take(MaxListed).Select(Code)));
            if (names.Count > MaxListed)
                text.Append(CultureInfo.InvariantCulture, $" and {names.Count - MaxListed} more");
            text.Append('\n');
        }
    }

    private static string Counts(TestCounts counts) =>
        $"{counts.Passed} passed, {counts.Failed} failed{(counts.Skipped > 0 ? $", {counts.Skipped} skipped" : "")}";

    /// <summary>One line of code: no backtick, pipe or line break can end it.</summary>
    private static string Code(string text)
    {
        var line = new string([.. text.Take(200).Select(c => c is '`' or '|' || char.IsControl(c) ? ' ' : c)]);
        return $"`{line}`";
    }

    /// <summary>Why it was not verified, as code: the reason may quote names a command in the sandbox chose.</summary>
    private static string Plain(string text) => Code(text.Split('\n')[0]);
}
