using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>One lifecycle command: a shell command line (string form) or a program and its arguments (array form).</summary>
public sealed record LifecycleCommand(string Name, string? Shell, IReadOnlyList<string>? Program)
{
    public IReadOnlyList<string> Argv => Shell is not null ? ["/bin/sh", "-c", Shell] : Program!;

    public override string ToString() => Shell ?? string.Join(' ', Program!);
}

/// <summary>
/// What a repository's <c>devcontainer.json</c> says, of what the sandbox supports: <c>image</c>, or <c>build.dockerfile</c>
/// with <c>build.context</c> (and <c>build.args</c>); <c>containerEnv</c>; <c>remoteUser</c>; and the lifecycle commands
/// <c>onCreateCommand</c>, <c>updateContentCommand</c> and <c>postCreateCommand</c> in their string, array and object
/// forms. Everything else it names is listed in <see cref="Unsupported"/> for the agent to be told. It is the
/// repository's, so hostile: names and values are checked, and paths stay inside the repository.
/// </summary>
public sealed partial class DevContainer
{
    public const int MaxBytes = 64 * 1024;
    public static readonly string[] Locations = [".devcontainer/devcontainer.json", ".devcontainer.json"];

    // Known but not carried out: told to the agent so it does not count on them.
    private static readonly string[] Known = ["name", "image", "build", "dockerFile", "context", "containerEnv", "remoteUser", "containerUser",
        "onCreateCommand", "updateContentCommand", "postCreateCommand", "customizations", "$schema"];

    /// <summary>Where it was found, e.g. <c>.devcontainer/devcontainer.json</c>.</summary>
    public required string Path { get; init; }
    public string? Image { get; init; }

    /// <summary>The Dockerfile, relative to the repository's root.</summary>
    public string? Dockerfile { get; init; }

    /// <summary>The build context, relative to the repository's root ("" for the root itself).</summary>
    public string Context { get; init; } = "";
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> ContainerEnv { get; init; } = new Dictionary<string, string>();
    public string? RemoteUser { get; init; }
    public IReadOnlyList<LifecycleCommand> Lifecycle { get; init; } = [];
    public IReadOnlyList<string> Unsupported { get; init; } = [];

    /// <summary>Parses the file's text (JSON with comments and trailing commas); throws <see cref="SandboxException"/> saying what is wrong.</summary>
    public static DevContainer Parse(string path, string text)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
                MaxDepth = 16,
            });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new SandboxException($"{path} is not valid JSON: {e.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new SandboxException($"{path} is not a JSON object");

        var folder = System.IO.Path.GetDirectoryName(path)!.Replace('\\', '/');
        string? dockerfile = null;
        var context = folder;
        var args = new Dictionary<string, string>();
        if (root.TryGetProperty("build", out var build) && build.ValueKind == JsonValueKind.Object)
        {
            if ((String(build, "dockerfile") ?? String(build, "dockerFile")) is { } file)
                dockerfile = Inside(path, folder, file);
            if (String(build, "context") is { } c)
                context = Inside(path, folder, c);
            if (build.TryGetProperty("args", out var a))
                args = Variables(path, "build.args", a);
        }
        else if (String(root, "dockerFile") is { } legacy)
        {
            dockerfile = Inside(path, folder, legacy);
            if (String(root, "context") is { } c)
                context = Inside(path, folder, c);
        }
        var image = String(root, "image");
        if (image is not null && !ImageName().IsMatch(image))
            throw new SandboxException($"{path}: image is not an image name");
        if (image is null && dockerfile is null)
            throw new SandboxException($"{path} names neither an image nor a build.dockerfile");

        var remoteUser = String(root, "remoteUser") ?? String(root, "containerUser");
        if (remoteUser is not null && !UserName().IsMatch(remoteUser))
            throw new SandboxException($"{path}: remoteUser is not a user name");

        var unsupported = root.EnumerateObject().Select(p => p.Name).Where(n => !Known.Contains(n)).ToList();
        return new DevContainer
        {
            Path = path,
            Image = dockerfile is null ? image : null,
            Dockerfile = dockerfile,
            Context = context,
            BuildArgs = args,
            ContainerEnv = root.TryGetProperty("containerEnv", out var env) ? Variables(path, "containerEnv", env) : [],
            RemoteUser = remoteUser,
            Lifecycle = [.. new[] { "onCreateCommand", "updateContentCommand", "postCreateCommand" }
                .SelectMany(name => root.TryGetProperty(name, out var command) ? Commands(path, name, command) : [])],
            Unsupported = unsupported,
        };
    }

    private static IEnumerable<LifecycleCommand> Commands(string path, string name, JsonElement command) => command.ValueKind switch
    {
        JsonValueKind.String => [new LifecycleCommand(name, command.GetString()!, null)],
        JsonValueKind.Array => [Program(path, name, command)],
        // The object form names commands that may run in parallel; here they run one after another, in order.
        JsonValueKind.Object => [.. command.EnumerateObject().SelectMany(p => Commands(path, $"{name}.{p.Name}", p.Value))],
        JsonValueKind.Null => [],
        _ => throw new SandboxException($"{path}: {name} must be a string, an array of strings or an object"),
    };

    private static LifecycleCommand Program(string path, string name, JsonElement array)
    {
        var argv = array.EnumerateArray().Select(a => a.ValueKind == JsonValueKind.String ? a.GetString()!
            : throw new SandboxException($"{path}: {name} must hold only strings")).ToList();
        return argv.Count == 0 ? throw new SandboxException($"{path}: {name} is an empty array") : new LifecycleCommand(name, null, argv);
    }

    private static Dictionary<string, string> Variables(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new SandboxException($"{path}: {name} must be an object of strings");
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!VariableName().IsMatch(property.Name))
                throw new SandboxException($"{path}: {name} has a name that is not a variable name");
            if (property.Value.ValueKind != JsonValueKind.String)
                throw new SandboxException($"{path}: {name}.{property.Name} must be a string");
            var value = property.Value.GetString()!;
            if (value.Contains('\0', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
                throw new SandboxException($"{path}: {name}.{property.Name} holds a line break or a NUL");
            variables[property.Name] = value;
        }
        return variables;
    }

    /// <summary>A path given relative to the devcontainer.json's folder, as a path from the repository's root, refused if it leaves it.</summary>
    private static string Inside(string path, string folder, string relative)
    {
        var parts = new List<string>();
        foreach (var part in $"{folder}/{relative}".Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (parts.Count == 0)
                    throw new SandboxException($"{path}: {relative} is outside the repository");
                parts.RemoveAt(parts.Count - 1);
            }
            else
                parts.Add(part);
        }
        if (relative.StartsWith('/'))
            throw new SandboxException($"{path}: {relative} must be relative to the devcontainer.json's folder");
        return string.Join('/', parts);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s : null;

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_]{0,127}\z")]
    private static partial Regex VariableName();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._/:@-]{0,254}\z", RegexOptions.IgnoreCase)]
    private static partial Regex ImageName();

    [GeneratedRegex(@"^[a-z_][a-z0-9_.-]{0,31}\z", RegexOptions.IgnoreCase)]
    private static partial Regex UserName();
}
