using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Orchestrator.Planner.Llm;
using Orchestrator.Planner.Runs;

namespace Orchestrator.Planner.Agent;

/// <summary>
/// The conversation with the model for one run: each turn passes the budget, goes through the retry policy and lands on
/// the transcript; each tool call the model asks for is made, and its result (or its failure) is handed back. The loop
/// is ours rather than FunctionInvokingChatClient's so that every turn and call is counted, stopped and recorded where
/// it happens.
/// </summary>
/// <param name="allTools">Every tool of the session, whether or not the current phase offers it: for naming calls.</param>
public sealed class AgentLoop(
    IChatClient chat, LlmRetryPolicy retry, RunBudget budget, Transcript transcript, PlannerOptions options, IReadOnlyList<GatewayTool> allTools)
{
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);

    // Bumped by every call that may have changed the workspace and did not fail: the same failing call after it is a new try.
    private int _workspaceVersion;

    /// <summary>Takes turns until the model answers without calling a tool, and returns that answer.</summary>
    public async Task<string> AnswerAsync(List<ChatMessage> messages, IReadOnlyList<GatewayTool> tools, CancellationToken cancellationToken)
    {
        var available = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
        while (true)
        {
            var response = await TurnAsync(messages, tools, cancellationToken);
            messages.AddMessages(response);
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0)
                return response.Text;
            var results = new List<AIContent>(calls.Count);
            foreach (var call in calls)
                results.Add(await CallToolAsync(call, available, cancellationToken));
            messages.Add(new ChatMessage(ChatRole.Tool, results));
        }
    }

    /// <summary>
    /// Like <see cref="AnswerAsync"/>, for an answer that must parse: a malformed one gets one request to correct it,
    /// then the run fails with <paramref name="failureReason"/>.
    /// </summary>
    public async Task<T> AnswerAsAsync<T>(List<ChatMessage> messages, IReadOnlyList<GatewayTool> tools,
        Func<string, (T? Value, string? Error)> parse, string failureReason, CancellationToken cancellationToken) where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            var (value, error) = parse(await AnswerAsync(messages, tools, cancellationToken));
            if (value is not null)
                return value;
            if (attempt == 2)
                throw new RunFailedException(failureReason, $"The model did not answer with the JSON object asked for, twice; the last time {error}.");
            await SayAsync(messages, ChatRole.User, $"That is not the JSON object asked for: {error}. Answer with only the JSON object.");
        }
    }

    /// <summary>Adds a message to the conversation and the transcript.</summary>
    public async Task SayAsync(List<ChatMessage> messages, ChatRole role, string text)
    {
        messages.Add(new ChatMessage(role, text));
        await transcript.AddAsync(role.Value, text);
    }

    private async Task<ChatResponse> TurnAsync(List<ChatMessage> messages, IReadOnlyList<GatewayTool> tools, CancellationToken cancellationToken)
    {
        budget.BeforeTurn();
        var chatOptions = new ChatOptions { Tools = tools.Count > 0 ? [.. tools] : null };
        var started = Stopwatch.GetTimestamp();
        var response = await retry.ExecuteAsync(
            attempt => chat.GetResponseAsync(messages, chatOptions, attempt),
            r => transcript.AddAsync("retry", $"Attempt {r.Attempt} failed ({r.Fault}); retrying in {r.Delay.TotalSeconds:0.#} s."),
            cancellationToken);
        var input = response.Usage?.InputTokenCount ?? 0;
        var output = response.Usage?.OutputTokenCount ?? 0;
        budget.Spend(input, output);

        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        await transcript.AddAsync("assistant", response.Text is { Length: > 0 } text ? text : null,
            inputTokens: input, outputTokens: output, duration: Stopwatch.GetElapsedTime(started));
        foreach (var call in calls)
            await transcript.AddAsync("tool-call", null, tool: Qualified(call.Name), callId: call.CallId, argumentsJson: ArgumentsJson(call));
        budget.CheckSpend();
        return response;
    }

    private async Task<FunctionResultContent> CallToolAsync(
        FunctionCallContent call, Dictionary<string, GatewayTool> available, CancellationToken cancellationToken)
    {
        budget.BeforeToolCall();
        ToolOutcome outcome;
        if (call.Exception is not null)
            outcome = new ToolOutcome($"The arguments are not a valid JSON object: {call.Exception.Message}", IsError: true, TimeSpan.Zero);
        else if (!available.TryGetValue(call.Name, out var tool))
            outcome = new ToolOutcome(allTools.Any(t => t.Name == call.Name)
                ? $"{call.Name} is not available in this phase: it can change the repository, and this phase only reads."
                : $"There is no tool named {call.Name}.", IsError: true, TimeSpan.Zero);
        else
        {
            outcome = (ToolOutcome)(await tool.InvokeAsync(new AIFunctionArguments(call.Arguments), cancellationToken))!;
        }
        await transcript.AddAsync("tool-result", outcome.Text, tool: Qualified(call.Name), callId: call.CallId, isError: outcome.IsError,
            duration: outcome.Duration);

        if (!outcome.IsError && available.TryGetValue(call.Name, out var called) && !called.Descriptor.ReadOnly)
            _workspaceVersion++;
        if (outcome.IsError)
        {
            // The same call on the same workspace: a failing run_tests, a fix, and run_tests again is not a repetition.
            var key = $"{call.Name} {ArgumentsJson(call)} @{_workspaceVersion}";
            var failures = _failures[key] = _failures.GetValueOrDefault(key) + 1;
            if (failures >= options.MaxRepeatedFailures)
            {
                throw new RunFailedException("repeated-tool-failure",
                    $"The model made the same failing call to {Qualified(call.Name)} {failures} times with no change in between (PLANNER_MAX_REPEATED_FAILURES); the last error: {Shorten(transcript.Redact(outcome.Text))}");
            }
        }
        return new FunctionResultContent(call.CallId, outcome.Text);
    }

    private string Qualified(string functionName) =>
        allTools.FirstOrDefault(t => t.Name == functionName)?.QualifiedName ?? functionName;

    private static string ArgumentsJson(FunctionCallContent call) =>
        call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions);

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
