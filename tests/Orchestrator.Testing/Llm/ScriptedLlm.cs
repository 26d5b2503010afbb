using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Testing.Llm;

/// <summary>
/// An OpenAI-compatible chat-completions server on 127.0.0.1, scripted per test, so the Planner's real OpenAI client
/// talks to it. Each <see cref="LlmScript"/> answers the requests that mention a given text (a work item's title), one
/// step per request, in order; every request is recorded. A request no script answers gets a 400 that says so, which
/// fails the run with that message.
/// </summary>
public sealed class ScriptedLlm : IAsyncDisposable
{
    /// <summary>Looks like an OpenAI key on purpose: transcripts and logs must not show it.</summary>
    public const string ApiKey = "sk-scripted-test-key-0123456789abcdefghijklmnop";

    public const string Model = "gpt-4o-mini";

    private readonly WebApplication _app;
    private readonly List<LlmScript> _scripts = [];
    private readonly LockedList<LlmRequest> _requests = new();
    private readonly LockedList<LlmRequest> _unscripted = new();
    private int _nextId;

    private ScriptedLlm(WebApplication app) => _app = app;

    /// <summary>What OPENAI_BASE_URL is set to.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<LlmRequest> Requests => _requests.Snapshot();

    /// <summary>Requests that no script had a step for.</summary>
    public IReadOnlyList<LlmRequest> Unscripted => _unscripted.Snapshot();

    /// <summary>The settings that point a Planner here.</summary>
    public IEnumerable<(string Key, string? Value)> Settings =>
        [("OPENAI_BASE_URL", BaseUrl.ToString()), ("OPENAI_API_KEY", ApiKey), ("OPENAI_MODEL", Model)];

    /// <param name="listenUrl">Where to listen, when not on a free port of 127.0.0.1.</param>
    public static async Task<ScriptedLlm> StartAsync(string listenUrl = LoopbackServer.Loopback)
    {
        var app = LoopbackServer.Create(listenUrl);
        var llm = new ScriptedLlm(app);
        app.MapPost("/v1/chat/completions", llm.CompleteAsync);
        llm.BaseUrl = new Uri(await LoopbackServer.StartAsync(app), "v1");
        return llm;
    }

    /// <summary>A script for the conversations that mention <paramref name="mention"/>; the first matching script answers.</summary>
    public LlmScript Script(string mention)
    {
        var script = new LlmScript(mention);
        lock (_scripts)
            _scripts.Add(script);
        return script;
    }

    private async Task CompleteAsync(HttpContext http)
    {
        var body = (await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted))!;
        var request = new LlmRequest(DateTimeOffset.UtcNow, body, http.Request.Headers.Authorization.ToString());
        _requests.Add(request);
        LlmScript? script;
        lock (_scripts)
            script = _scripts.FirstOrDefault(s => request.Mentions(s.Mention));
        var step = script?.Next(request);
        if (step is null)
        {
            _unscripted.Add(request);
            await WriteErrorAsync(http, 400, script is null
                ? "scripted LLM: no script mentions anything in this request"
                : $"scripted LLM: the script for \"{script.Mention}\" has no step left", new Dictionary<string, string>());
            return;
        }

        LlmReply reply;
        try
        {
            reply = await step(request, http.RequestAborted);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            request.Aborted = true;
            return;
        }
        if (reply.Status != 200)
        {
            await WriteErrorAsync(http, reply.Status, reply.Text ?? "scripted failure", reply.Headers);
            return;
        }

        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Text };
        if (reply.ToolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray([.. reply.ToolCalls.Select((c, i) => (JsonNode)new JsonObject
            {
                ["id"] = $"call_{id}_{i}",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
            })]);
        }
        var response = new JsonObject
        {
            ["id"] = $"chatcmpl-{id}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = body["model"]?.GetValue<string>() ?? Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["finish_reason"] = reply.ToolCalls.Count > 0 ? "tool_calls" : "stop",
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = reply.InputTokens,
                ["completion_tokens"] = reply.OutputTokens,
                ["total_tokens"] = reply.InputTokens + reply.OutputTokens,
            },
        };
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(response.ToJsonString(), http.RequestAborted);
        request.AnsweredAt = DateTimeOffset.UtcNow;
    }

    private static async Task WriteErrorAsync(HttpContext http, int status, string message, IReadOnlyDictionary<string, string> headers)
    {
        http.Response.StatusCode = status;
        foreach (var (name, value) in headers)
            http.Response.Headers[name] = value;
        http.Response.ContentType = "application/json";
        var type = status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
        await http.Response.WriteAsync(new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["code"] = null },
        }.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The answers for one conversation, one per request, in order.</summary>
public sealed class LlmScript(string mention)
{
    private readonly Queue<Func<LlmRequest, CancellationToken, Task<LlmReply>>> _steps = new();
    private readonly LockedList<LlmRequest> _requests = new();
    private Func<LlmRequest, LlmReply>? _otherwise;

    public string Mention { get; } = mention;

    /// <summary>The requests this script answered (or is answering).</summary>
    public IReadOnlyList<LlmRequest> Requests => _requests.Snapshot();

    public LlmScript Step(Func<LlmRequest, CancellationToken, Task<LlmReply>> step)
    {
        lock (_steps)
            _steps.Enqueue(step);
        return this;
    }

    public LlmScript Then(Func<LlmRequest, LlmReply> reply) => Step((request, _) => Task.FromResult(reply(request)));

    public LlmScript Reply(string text, int inputTokens = 100, int outputTokens = 20) =>
        Then(_ => LlmReply.Answer(text, inputTokens, outputTokens));

    /// <summary>The model calls one tool; <paramref name="arguments"/> builds its arguments from the request (paths need the workspace root).</summary>
    public LlmScript CallTool(string name, Func<LlmRequest, object> arguments, int inputTokens = 100, int outputTokens = 20) =>
        Then(request => LlmReply.Call([(name, JsonSerializer.Serialize(arguments(request)))], inputTokens, outputTokens));

    public LlmScript Fail(int status, params (string Name, string Value)[] headers) =>
        Then(_ => LlmReply.Error(status, headers));

    /// <summary>Answers only once <paramref name="gate"/> completes (or never, if the client gives up first).</summary>
    public LlmScript WaitFor(Task gate, Func<LlmRequest, LlmReply> reply, TaskCompletionSource? reached = null) =>
        Step(async (request, cancellationToken) =>
        {
            reached?.TrySetResult();
            await gate.WaitAsync(cancellationToken);
            return reply(request);
        });

    /// <summary>
    /// Answers every request once the steps run out, however many: a model without memory that reads the conversation it
    /// is given, so it plays along whatever attempt of a run asks.
    /// </summary>
    public LlmScript Otherwise(Func<LlmRequest, LlmReply> reply)
    {
        _otherwise = reply;
        return this;
    }

    internal Func<LlmRequest, CancellationToken, Task<LlmReply>>? Next(LlmRequest request)
    {
        _requests.Add(request);
        lock (_steps)
        {
            if (_steps.TryDequeue(out var step))
                return step;
        }
        return _otherwise is { } otherwise ? (r, _) => Task.FromResult(otherwise(r)) : null;
    }
}

public sealed record LlmReply(
    int Status, string? Text, IReadOnlyList<(string Name, string ArgumentsJson)> ToolCalls, int InputTokens, int OutputTokens,
    IReadOnlyDictionary<string, string> Headers)
{
    public static LlmReply Answer(string text, int inputTokens = 100, int outputTokens = 20) =>
        new(200, text, [], inputTokens, outputTokens, new Dictionary<string, string>());

    public static LlmReply Call(IReadOnlyList<(string Name, string ArgumentsJson)> calls, int inputTokens = 100, int outputTokens = 20) =>
        new(200, null, calls, inputTokens, outputTokens, new Dictionary<string, string>());

    public static LlmReply Error(int status, params (string Name, string Value)[] headers) =>
        new(status, $"scripted {status}", [], 0, 0, headers.ToDictionary(h => h.Name, h => h.Value));
}

/// <summary>A chat-completions request as the server got it.</summary>
public sealed class LlmRequest(DateTimeOffset at, JsonNode body, string authorization)
{
    public DateTimeOffset At { get; } = at;
    public JsonNode Body { get; } = body;
    public string Authorization { get; } = authorization;

    /// <summary>When the answer was written, for a successful one: the LLM's share of a run's time.</summary>
    public DateTimeOffset? AnsweredAt { get; internal set; }

    /// <summary>The client gave up on it (cancelled, or timed out) before it was answered.</summary>
    public bool Aborted { get; internal set; }

    public IReadOnlyList<LlmMessage> Messages { get; } = [.. body["messages"]!.AsArray().Select(m => new LlmMessage(
        m!["role"]!.GetValue<string>(),
        Content(m["content"]),
        m["tool_call_id"]?.GetValue<string>(),
        m["tool_calls"]?.AsArray().Select(c => c!["function"]!["name"]!.GetValue<string>()).ToList() ?? []))];

    /// <summary>The function names the request offered.</summary>
    public IReadOnlyList<string> Tools { get; } = [.. body["tools"]?.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>()) ?? []];

    public string AllText => string.Join("\n", Messages.Select(m => m.Content));

    public bool Mentions(string text) => AllText.Contains(text, StringComparison.Ordinal);

    /// <summary>Group 1 of the first match of <paramref name="pattern"/> in the messages, e.g. a path the prompt names.</summary>
    public string Find(string pattern) =>
        System.Text.RegularExpressions.Regex.Match(AllText, pattern) is { Success: true } match
            ? match.Groups[1].Value
            : throw new InvalidOperationException($"No match for {pattern} in the request");

    private static string Content(JsonNode? content) => content switch
    {
        null => "",
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => content.GetValueKind() == JsonValueKind.String ? content.GetValue<string>() : content.ToJsonString(),
    };
}

public sealed record LlmMessage(string Role, string Content, string? ToolCallId, IReadOnlyList<string> ToolCalls);
