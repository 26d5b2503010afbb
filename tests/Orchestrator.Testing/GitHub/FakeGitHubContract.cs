using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Testing.GitHub;

/// <summary>
/// Every JSON answer the fake GitHub gives, written down when <c>FAKE_GITHUB_RECORD_DIR</c> names a folder (the test
/// command sets it): method, path, status and body, one JSON line each, a file per process. After the suite,
/// tests/github-contract/validate.mjs checks them all against GitHub's published OpenAPI description.
/// </summary>
public static class Contract
{
    private static readonly object Gate = new();
    private static readonly string? Folder = Environment.GetEnvironmentVariable("FAKE_GITHUB_RECORD_DIR");

    public static void Record(string method, string path, int status, string? contentType, byte[] body)
    {
        if (string.IsNullOrEmpty(Folder))
            return;
        JsonNode? json = null;
        if (body.Length > 0)
        {
            if (contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true)
                return;
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return;
            }
        }
        var line = new JsonObject { ["method"] = method, ["path"] = path, ["status"] = status, ["body"] = json }.ToJsonString();
        lock (Gate)
        {
            Directory.CreateDirectory(Folder);
            File.AppendAllText(Path.Combine(Folder, $"{Environment.ProcessId}.jsonl"), line + "\n", new UTF8Encoding(false));
        }
    }
}
