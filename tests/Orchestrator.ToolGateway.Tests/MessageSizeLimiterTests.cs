using System.Text;
using System.Text.Json;
using Orchestrator.ToolGateway.Servers;

namespace Orchestrator.ToolGateway.Tests;

public sealed class MessageSizeLimiterTests
{
    private const int Limit = 64 * 1024;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100_000)]
    public async Task Messages_within_the_limit_pass_unchanged_however_the_reads_split_them(int chunk)
    {
        var messages = new[]
        {
            """{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"héllo"}]}}""",
            """{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}""",
            $$$"""{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{{{new string('a', Limit - 100)}}}"}]}}""",
        };

        var lines = await ReadLinesAsync(string.Join("\n", messages) + "\n", chunk);

        Assert.Equal(messages, lines);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_answer_over_the_limit_becomes_its_start_and_a_marker_under_the_same_id(bool idFirst)
    {
        var text = "The quick brown fox. " + new string('x', 3 * Limit) + " THE END";
        var result = $$"""{"content":[{"type":"text","text":{{JsonSerializer.Serialize(text)}}}]}""";
        var huge = idFirst
            ? $$"""{"jsonrpc":"2.0","id":42,"result":{{result}}}"""
            : $$"""{"result":{{result}},"jsonrpc":"2.0","id":42}""";
        var after = """{"jsonrpc":"2.0","id":43,"result":{"content":[]}}""";

        var lines = await ReadLinesAsync(huge + "\n" + after + "\n", chunk: 4096);

        Assert.Equal(2, lines.Count);
        Assert.True(Encoding.UTF8.GetByteCount(lines[0]) <= Limit);
        using var replaced = JsonDocument.Parse(lines[0]);
        Assert.Equal(42, replaced.RootElement.GetProperty("id").GetInt32());
        var cut = replaced.RootElement.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
        Assert.StartsWith("The quick brown fox. xxx", cut);
        Assert.DoesNotContain("THE END", cut);
        Assert.Contains($"[… cut by ToolGateway: the server's answer was {Encoding.UTF8.GetByteCount(huge):N0} bytes; at most {Limit:N0} are passed on (TOOL_RESULT_MAX_BYTES)]", cut);
        Assert.False(replaced.RootElement.GetProperty("result").GetProperty("isError").GetBoolean());
        Assert.Equal(after, lines[1]);
    }

    [Fact]
    public async Task A_string_id_and_an_error_flag_are_kept()
    {
        var huge = $$"""{"result":{"isError":true,"content":[{"type":"text","text":"{{new string('e', 2 * Limit)}}"}]},"jsonrpc":"2.0","id":"req-\"7\""}""";

        var line = Assert.Single(await ReadLinesAsync(huge + "\n", chunk: 1000));

        using var replaced = JsonDocument.Parse(line);
        Assert.Equal("req-\"7\"", replaced.RootElement.GetProperty("id").GetString());
        Assert.True(replaced.RootElement.GetProperty("result").GetProperty("isError").GetBoolean());
    }

    [Fact]
    public async Task A_notification_over_the_limit_is_dropped_and_what_follows_goes_on()
    {
        var huge = $$$"""{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"{{{new string('n', 2 * Limit)}}}"}}""";
        var after = """{"jsonrpc":"2.0","id":5,"result":{}}""";

        var lines = await ReadLinesAsync(huge + "\n" + after + "\n", chunk: 10_000);

        Assert.Equal([after], lines);
    }

    [Fact]
    public async Task A_last_message_without_a_newline_is_still_passed_on()
    {
        var message = """{"jsonrpc":"2.0","id":9,"result":{}}""";

        Assert.Equal([message], await ReadLinesAsync(message, chunk: 5));
    }

    private static async Task<List<string>> ReadLinesAsync(string input, int chunk)
    {
        var cuts = new List<long>();
        using var limiter = new MessageSizeLimiter(new ChunkedStream(Encoding.UTF8.GetBytes(input), chunk), Limit, "TOOL_RESULT_MAX_BYTES") { Cut = cuts.Add };
        using var reader = new StreamReader(limiter, Encoding.UTF8);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
            lines.Add(line);
        return lines;
    }

    /// <summary>Hands out its bytes at most <c>chunk</c> at a time, as a pipe does.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
