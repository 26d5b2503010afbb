using System.Net.Sockets;
using System.Text;
using Orchestrator.Testing;
using Orchestrator.Testing.GitHub;

namespace Orchestrator.EndToEnd.Tests;

/// <summary>
/// The webhook's size limit holds on the bytes read, chunked or not, signed or not, and many large deliveries at once
/// cost Intake a bounded amount of memory (its own process, measured from /proc).
/// </summary>
[Collection(ProcessStack.Collection)]
public sealed class WebhookLimitTests
{
    [Fact]
    public async Task A_chunked_10_MB_signed_body_gets_413_and_many_unsigned_29_MB_bodies_leave_Intake_memory_bounded()
    {
        await using var stack = await ProcessStack.StartAsync(null, [("GITHUB_POLL_INTERVAL", "0")], "Intake");
        var intake = stack.Running["Intake"];
        using var http = new HttpClient { BaseAddress = intake.Address };
        var issue = stack.GitHub.AddIssue("Add a greeting", "Say hello.", [ProcessStack.Label]);
        // Warm: one real delivery, so what is measured next is the deliveries' cost, not the first request's.
        (await Webhooks.DeliverAsync(http, ProcessStack.WebhookSecret, "issues", Webhooks.Labeled(ProcessStack.Repository, issue, ProcessStack.Label),
            cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var before = intake.PeakResidentMegabytes();

        // A valid payload padded to 10 MB with whitespace, signed, sent chunked (no Content-Length to check first).
        var payload = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(Webhooks.Labeled(ProcessStack.Repository, issue, ProcessStack.Label)));
        var padded = payload.Concat(Enumerable.Repeat((byte)' ', 10 * 1024 * 1024)).ToArray();
        var signed = await SendChunkedAsync(intake.Address, new MemoryStream(padded), FakeGitHub.Sign(ProcessStack.WebhookSecret, padded));

        // 24 unsigned bodies of 29 MB at once, each generated as it is sent; then 48 more.
        const long Large = 29L * 1024 * 1024;
        var unsigned = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => SendChunkedAsync(intake.Address, new ZeroStream(Large), "sha256=" + new string('0', 64))));
        var afterFirst = intake.PeakResidentMegabytes();
        var more = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ => SendChunkedAsync(intake.Address, new ZeroStream(Large), "sha256=" + new string('0', 64))));
        var afterSecond = intake.PeakResidentMegabytes();
        var all = unsigned.Concat(more).ToList();
        Console.WriteLine($"Intake peak resident memory: {before:0} MB before; {afterFirst:0} MB after one 10 MB and 24 x 29 MB chunked deliveries; " +
            $"{afterSecond:0} MB after 48 more. Read at most {all.Max(u => u.Sent) / 1024.0 / 1024:0.0} MB of a 29 MB body; " +
            $"answers: {string.Join(", ", all.GroupBy(u => u.Status).Select(g => $"{g.Count()} x {g.Key}"))}");

        Assert.Equal(413, signed.Status);
        // Each is read to the limit and refused (413), or, past the deliveries read at once and those waiting, refused at once (429).
        Assert.All(all, u => Assert.Contains(u.Status, new[] { 413, 429 }));
        // Refused once the limit was read: never the whole body (what was sent also fills the sockets' buffers).
        Assert.All(all, u => Assert.True(u.Sent < Large / 2, $"{u.Sent:N0} bytes were sent before Intake answered"));
        // Bounded: 2 GB of bodies cost a small fraction of it (24 such bodies took Intake from 195 MB to 2.1 GB when whole
        // bodies were read before the signature was checked).
        Assert.True(afterSecond - before < 250, $"Intake's peak memory grew by {afterSecond - before:0} MB for 72 bodies");
        // Nothing was accepted from them: the one work item is the warm-up's.
        using var reader = new HttpClient { BaseAddress = intake.Address }.WithToken(TestApiTokens.Reader);
        using var page = System.Text.Json.JsonDocument.Parse(await reader.GetStringAsync("/api/work-items", TestContext.Current.CancellationToken));
        Assert.Equal(1, page.RootElement.GetProperty("total").GetInt32());
    }

    /// <summary>
    /// Sends a chunked delivery over a socket of its own, reading the answer while it sends, and stops sending when the
    /// answer comes (an HTTP client would fail on the closed connection instead of showing the early answer).
    /// </summary>
    /// <returns>The status Intake answered (0 for none) and how many body bytes were sent until then.</returns>
    private static async Task<(int Status, long Sent)> SendChunkedAsync(Uri address, Stream body, string signature)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        var headers = $"POST /webhooks/github HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n" +
            $"X-GitHub-Event: issues\r\nX-GitHub-Delivery: {Guid.NewGuid()}\r\nX-Hub-Signature-256: {signature}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), TestContext.Current.CancellationToken);
        var answer = ReadStatusAsync(stream);
        long sent = 0;
        var chunk = new byte[64 * 1024];
        try
        {
            int n;
            while (!answer.IsCompleted && (n = await body.ReadAsync(chunk, TestContext.Current.CancellationToken)) > 0)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{n:x}\r\n"), TestContext.Current.CancellationToken);
                await stream.WriteAsync(chunk.AsMemory(0, n), TestContext.Current.CancellationToken);
                await stream.WriteAsync("\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
                sent += n;
            }
            if (!answer.IsCompleted)
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        }
        catch (IOException)
        {
            // Intake closed the connection after answering.
        }
        return (await answer.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken), sent);
    }

    private static async Task<int> ReadStatusAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1 && one[0] != '\n')
            line.Append((char)one[0]);
        return line.ToString().Split(' ') is [_, var code, ..] && int.TryParse(code, out var status) ? status : 0;
    }

    /// <summary>Zeros, as many as asked for, made as they are read.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
