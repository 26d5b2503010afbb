using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Orchestrator.ToolGateway.Workspaces;

/// <summary>Folders the gateway made and the sandbox may have changed.</summary>
public static class Folders
{
    /// <summary>
    /// Removes a folder and everything in it (links are removed, never followed). A command in the sandbox may have taken
    /// the owner's permissions off a folder it made (<c>chmod 000</c>): they are given back to the owner, then it is removed again.
    /// </summary>
    public static void Delete(string directory, ILogger logger)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(directory))
                    Directory.Delete(directory, recursive: true);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (attempt == 2)
                {
                    logger.LogWarning(e, "Folder {Directory} could not be removed", directory);
                    return;
                }
                // chmod does not follow the links it meets while recursing (-R without -L).
                using var chmod = Process.Start(new ProcessStartInfo("chmod", ["-R", "u+rwX", "--", directory]) { RedirectStandardError = true });
                chmod?.WaitForExit(TimeSpan.FromMinutes(1));
            }
        }
    }

    /// <summary>The bytes of the files under a folder (links not followed); what cannot be read counts as nothing.</summary>
    public static long Size(string folder)
    {
        try
        {
            // Links are skipped, files and folders alike: a link to "." or to / would make the walk endless, or the host's.
            return new DirectoryInfo(folder).EnumerateFiles("*", new EnumerationOptions
                {
                    RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true,
                })
                .Sum(f => f.Length);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
