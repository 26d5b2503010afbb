using System.Text;
using System.Text.RegularExpressions;

namespace Orchestrator.Intake.GitHub;

/// <summary>
/// Strips what a person reading an issue does not see but a model would: HTML comments (rendered as nothing by GitHub),
/// zero-width characters, bidirectional controls (which reorder what is shown) and Unicode tag characters (invisible
/// ASCII look-alikes). Whatever reaches the agent is what the issue shows.
/// </summary>
public static partial class HiddenText
{
    public static string Strip(string text)
    {
        if (string.IsNullOrEmpty(text))
            return text;
        var visible = HtmlComment().Replace(text, "");
        var result = new StringBuilder(visible.Length);
        for (var i = 0; i < visible.Length; i++)
        {
            var c = visible[i];
            // Tag characters U+E0000–U+E007F are the surrogate pair \uDB40 \uDC00–\uDC7F.
            if (c == '\uDB40' && i + 1 < visible.Length && visible[i + 1] is >= '\uDC00' and <= '\uDC7F')
            {
                i++;
                continue;
            }
            if (!IsInvisible(c))
                result.Append(c);
        }
        return result.ToString();
    }

    private static bool IsInvisible(char c) => c switch
    {
        '\u00AD' or '\u180E' or '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' => true, // zero-width, soft hyphen
        '\u200E' or '\u200F' or '\u061C' => true, // directional marks
        >= '\u202A' and <= '\u202E' => true, // embeddings and overrides
        >= '\u2066' and <= '\u2069' => true, // isolates
        _ => false,
    };

    // An unterminated comment hides everything after it, as GitHub renders it.
    [GeneratedRegex("<!--.*?(-->|$)", RegexOptions.Singleline)]
    private static partial Regex HtmlComment();
}
