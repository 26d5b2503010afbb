using System.Text;
using Orchestrator.ToolGateway.Workspaces;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// Files of the base commit, read from the gateway's own repository (never the workspace, which the agent's tools change):
/// what configures the agent and its sandbox comes only from the branch the work started from. A file larger than its
/// limit is cut (the caller is told); a link, a folder or a submodule in its place counts as no file.
/// </summary>
public sealed class BaseCommitFiles(Git git, string commit)
{
    public string Commit { get; } = commit;

    /// <summary>The file's text, cut at <paramref name="maxBytes"/> (then <c>Cut</c> is set), or null when there is no such regular file.</summary>
    public async Task<(string Text, bool Cut)?> ReadAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        var entry = (await git.RunAsync(["ls-tree", "-z", "--full-tree", Commit, "--", path], cancellationToken, maxOutputBytes: 64 * 1024)).Text;
        // "<mode> <type> <object>\t<path>\0"
        var fields = entry.Split('\t', 2)[0].Split(' ');
        if (fields is not [("100644" or "100755"), "blob", var blob])
            return null;
        var content = await git.RunAsync(["cat-file", "blob", blob], cancellationToken, maxOutputBytes: maxBytes);
        return (Encoding.UTF8.GetString(content.Output), content.OutputCut);
    }

    /// <summary>The tree object of a folder of the commit (its content's hash), or null when it is not a folder.</summary>
    public async Task<string?> TreeAsync(string folder, CancellationToken cancellationToken)
    {
        var spec = folder is "" or "." ? $"{Commit}^{{tree}}" : $"{Commit}:{folder}";
        try
        {
            var type = (await git.TextAsync(cancellationToken, "cat-file", "-t", spec)).Trim();
            return type == "tree" ? (await git.TextAsync(cancellationToken, "rev-parse", spec)).Trim() : null;
        }
        catch (GitException)
        {
            return null;
        }
    }

    /// <summary>A folder of the commit written out as a tar archive (links stay links), for an image build's context.</summary>
    public async Task<byte[]> ArchiveAsync(string folder, long maxBytes, CancellationToken cancellationToken)
    {
        var spec = folder is "" or "." ? Commit : $"{Commit}:{folder}";
        var result = await git.RunAsync(["archive", "--format=tar", spec], cancellationToken, maxOutputBytes: (int)Math.Min(maxBytes, int.MaxValue));
        if (result.OutputCut)
            throw new SandboxException($"The image's build context {folder} is larger than {maxBytes:N0} bytes");
        return result.Output;
    }
}

/// <summary>The sandbox could not be made or used; the message says why and is safe to show the agent.</summary>
public sealed class SandboxException(string message, Exception? inner = null) : Exception(message, inner);
