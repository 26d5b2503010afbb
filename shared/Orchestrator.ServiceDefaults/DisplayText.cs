namespace Orchestrator.ServiceDefaults;

/// <summary>Names that come from a workspace (file paths), shown in a sentence a person reads: the comment, a failure's detail.</summary>
public static class DisplayText
{
    /// <summary>The path as code, without the characters that could end the quote or the line it stands in.</summary>
    public static string Path(string path) => $"`{new string([.. path.Where(c => !char.IsControl(c) && c != '`')])}`";
}
