using System.Text;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Orchestrator.Intake.GitHub;

/// <summary>
/// Strips what a person reading an issue does not see but a model would. The Markdown is parsed as GitHub parses it
/// (CommonMark), and what renders as nothing is cut from the text: HTML comments (a block one left open hides the
/// rest of the issue), comments inside other HTML, <c>&lt;script&gt;</c> and <c>&lt;style&gt;</c> blocks (GitHub's sanitizer
/// drops them) and link reference definitions (<c>[//]: # (…)</c>). Then invisible characters go: zero-width
/// characters, bidirectional controls (which reorder what is shown) and Unicode tag characters (invisible ASCII
/// look-alikes). Whatever reaches the agent is what the issue shows; a comment inside a code span is shown, so it stays.
/// </summary>
public static partial class HiddenText
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePreciseSourceLocation().Build();

    public static string Strip(string text)
    {
        if (string.IsNullOrEmpty(text))
            return text;
        return WithoutInvisibleCharacters(WithoutUnrenderedMarkdown(text));
    }

    private static string WithoutUnrenderedMarkdown(string text)
    {
        var document = Markdown.Parse(text, Pipeline);
        var hidden = new List<(int Start, int End)>();
        foreach (var node in document.Descendants())
        {
            if (node.Span.IsEmpty)
                continue;
            var unrendered = node switch
            {
                LinkReferenceDefinition => true,
                HtmlBlock block => block.Type == HtmlBlockType.Comment || IsScriptOrStyle(text, block),
                HtmlInline inline => inline.Tag.StartsWith("<!--", StringComparison.Ordinal),
                _ => false,
            };
            // Inside any other HTML (a <div> or <p> block, say) a comment renders as nothing too.
            if (!unrendered && node is HtmlBlock html)
            {
                foreach (Match comment in CommentIn().Matches(text.Substring(html.Span.Start, html.Span.Length)))
                    hidden.Add((html.Span.Start + comment.Index, html.Span.Start + comment.Index + comment.Length));
                continue;
            }
            if (!unrendered)
                continue;
            // A block takes its line with it.
            var end = node.Span.End + 1;
            if (node is Block && end < text.Length && text[end] == '\r')
                end++;
            if (node is Block && end < text.Length && text[end] == '\n')
                end++;
            hidden.Add((node.Span.Start, end));
        }
        if (hidden.Count == 0)
            return text;

        var visible = new StringBuilder(text.Length);
        var next = 0;
        foreach (var span in hidden.OrderBy(s => s.Start))
        {
            if (span.Start > next)
                visible.Append(text, next, span.Start - next);
            next = Math.Max(next, Math.Min(text.Length, span.End));
        }
        if (next < text.Length)
            visible.Append(text, next, text.Length - next);
        return visible.ToString();
    }

    // GitHub's sanitizer drops <script> and <style> with what they hold.
    private static bool IsScriptOrStyle(string text, HtmlBlock block)
    {
        var start = text.AsSpan(block.Span.Start, Math.Min(8, block.Span.Length)).TrimStart();
        return start.StartsWith("<script", StringComparison.OrdinalIgnoreCase) || start.StartsWith("<style", StringComparison.OrdinalIgnoreCase);
    }

    // Within a span the parser found to be HTML; one left open runs to the end of that block, as the browser reads it.
    [GeneratedRegex("<!--.*?(-->|$)", RegexOptions.Singleline)]
    private static partial Regex CommentIn();

    private static string WithoutInvisibleCharacters(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            // Tag characters U+E0000–U+E007F are the surrogate pair \uDB40 \uDC00–\uDC7F.
            if (c == '\uDB40' && i + 1 < text.Length && text[i + 1] is >= '\uDC00' and <= '\uDC7F')
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
}
