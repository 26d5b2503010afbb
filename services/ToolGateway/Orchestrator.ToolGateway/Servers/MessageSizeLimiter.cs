using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orchestrator.ToolGateway.Servers;

/// <summary>
/// Stands between a server's stdout and the MCP client: it passes on each newline-delimited JSON-RPC message of at most
/// <c>maxBytes</c>, and never holds more than that of one. A longer message is read through to its end without being
/// kept; in its place comes a short one the client can use: for an answer to a request, a result whose text is the
/// start of the original's first text followed by a marker saying how much was cut; anything else (a notification, an
/// answer whose id cannot be found) is dropped. So a server that prints 50 MB costs the gateway <c>maxBytes</c>, not 50 MB
/// several times over (a string, its JSON, the message on the bus).
/// </summary>
public sealed partial class MessageSizeLimiter(Stream inner, int maxBytes, string setting) : Stream
{
    private const int TailBytes = 256;

    private readonly byte[] _read = new byte[64 * 1024];
    private readonly MemoryStream _line = new();
    private readonly byte[] _tail = new byte[TailBytes];
    private int _tailLength;
    private long _overflowLength;
    private byte[] _ready = [];
    private int _readyAt;
    private bool _ended;

    /// <summary>Called with the size of each message that was too long (for a log line).</summary>
    public Action<long>? Cut { get; init; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_readyAt == _ready.Length)
        {
            if (_ended)
                return 0;
            var read = await inner.ReadAsync(_read, cancellationToken);
            _ready = Take(_read.AsSpan(0, read), read == 0);
            _readyAt = 0;
            _ended = read == 0;
        }
        var count = Math.Min(buffer.Length, _ready.Length - _readyAt);
        _ready.AsMemory(_readyAt, count).CopyTo(buffer);
        _readyAt += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>What the bytes just read complete: whole lines within the limit, and replacements for lines over it.</summary>
    private byte[] Take(ReadOnlySpan<byte> bytes, bool end)
    {
        using var ready = new MemoryStream();
        while (!bytes.IsEmpty)
        {
            var newline = bytes.IndexOf((byte)'\n');
            var part = newline < 0 ? bytes : bytes[..newline];
            Append(part);
            if (newline < 0)
                break;
            EndLine(ready);
            bytes = bytes[(newline + 1)..];
        }
        if (end && (_line.Length > 0 || _overflowLength > 0))
            EndLine(ready);
        return ready.ToArray();
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        if (_overflowLength == 0 && _line.Length + part.Length <= maxBytes)
        {
            _line.Write(part);
            return;
        }
        if (_overflowLength == 0)
        {
            // Keep what fits as the head; from here on only count, and remember the last bytes (where an id may be).
            var room = maxBytes - (int)_line.Length;
            _line.Write(part[..room]);
            _overflowLength = _line.Length;
            part = part[room..];
            _tailLength = 0;
        }
        _overflowLength += part.Length;
        Remember(part);
    }

    private void Remember(ReadOnlySpan<byte> part)
    {
        if (part.Length >= TailBytes)
        {
            part[^TailBytes..].CopyTo(_tail);
            _tailLength = TailBytes;
            return;
        }
        var keep = Math.Min(_tailLength, TailBytes - part.Length);
        Array.Copy(_tail, _tailLength - keep, _tail, 0, keep);
        part.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + part.Length;
    }

    private void EndLine(MemoryStream ready)
    {
        if (_overflowLength == 0)
        {
            _line.WriteTo(ready);
            ready.WriteByte((byte)'\n');
        }
        else
        {
            Cut?.Invoke(_overflowLength);
            if (Replacement(_line.GetBuffer().AsSpan(0, (int)_line.Length), _tail.AsSpan(0, _tailLength), _overflowLength, maxBytes, setting) is { } replacement)
            {
                ready.Write(replacement);
                ready.WriteByte((byte)'\n');
            }
        }
        _line.SetLength(0);
        _overflowLength = 0;
        _tailLength = 0;
    }

    /// <summary>
    /// The message that stands in for one of <paramref name="length"/> bytes, of which <paramref name="head"/> is the start
    /// and <paramref name="tail"/> the end; null when it cannot stand in for anything (no id, or not an answer).
    /// </summary>
    public static byte[]? Replacement(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long length, int maxBytes, string setting)
    {
        var scan = Scan(head);
        if (scan.IsRequestOrNotification)
            return null;
        var id = scan.Id ?? IdAtEnd(tail);
        if (id is null)
            return null;
        var marker = $"\n[… cut by ToolGateway: the server's answer was {length.ToString("N0", CultureInfo.InvariantCulture)} bytes; " +
            $"at most {maxBytes.ToString("N0", CultureInfo.InvariantCulture)} are passed on ({setting})]";
        // The replacement stays well within the limit whatever the text escapes to.
        var text = scan.Text ?? "";
        var room = Math.Max(0, maxBytes / 8 - marker.Length - 256);
        if (text.Length > room)
            text = text[..room];
        if (text.Length > 0 && char.IsHighSurrogate(text[^1]))
            text = text[..^1];
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("jsonrpc", "2.0");
            json.WritePropertyName("id");
            json.WriteRawValue(id);
            json.WriteStartObject("result");
            json.WriteStartArray("content");
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", text + marker);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteBoolean("isError", scan.IsError);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private sealed record HeadScan(string? Id, string? Text, bool IsError, bool IsRequestOrNotification);

    /// <summary>
    /// Reads as much of the message as the head holds: its top-level id, method and error, and the first text of
    /// result.content (whole, or as much of it as there is).
    /// </summary>
    private static HeadScan Scan(ReadOnlySpan<byte> head)
    {
        var reader = new Utf8JsonReader(head, isFinalBlock: false, default);
        string? id = null, text = null;
        bool isError = false, method = false;
        // The property names leading to the current token: [ "result", "content", "[]", "text" ].
        var path = new List<string>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        property = reader.GetString();
                        if (path.Count == 1 && property == "method")
                            method = true;
                        if (path.Count == 1 && property == "error")
                            isError = true;
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        path.Add(property ?? "[]");
                        property = null;
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        property = null;
                        continue;
                }
                // A value.
                if (path.Count == 1 && property == "id")
                {
                    // As it was written (escapes and all), quoted again if it is a string.
                    var raw = Encoding.UTF8.GetString(reader.ValueSpan);
                    id = reader.TokenType == JsonTokenType.String ? $"\"{raw}\"" : raw;
                }
                else if (path.Count == 2 && path[1] == "result" && property == "isError" && reader.TokenType == JsonTokenType.True)
                    isError = true;
                else if (text is null && property == "text" && path is [_, "result", "content", "[]"] && reader.TokenType == JsonTokenType.String)
                    text = reader.GetString();
                property = null;
            }
            // The head ends inside a token: if that is the first text, take its start.
            if (text is null && property == "text" && path is [_, "result", "content", "[]"])
                text = PartialString(head[(int)reader.BytesConsumed..]);
        }
        catch (JsonException)
        {
            // Not JSON: whatever was found so far is all there is.
        }
        return new HeadScan(id, text, isError, method);
    }

    /// <summary>The start of a JSON string whose end was cut off: as many characters as decode cleanly.</summary>
    private static string? PartialString(ReadOnlySpan<byte> rest)
    {
        var quote = rest.IndexOf((byte)'"');
        if (quote < 0)
            return null;
        var body = rest[(quote + 1)..];
        // Drop a trailing escape or UTF-8 sequence the cut split: at most "\uXXXX" (6 bytes) back.
        for (var cut = 0; cut <= Math.Min(6, body.Length); cut++)
        {
            try
            {
                return JsonSerializer.Deserialize<string>([.. "\""u8, .. body[..^cut], .. "\""u8]);
            }
            catch (JsonException)
            {
            }
        }
        return null;
    }

    /// <summary>An id that is the message's last property: <c>…,"id":7}</c> (how the TypeScript SDK writes its answers).</summary>
    private static string? IdAtEnd(ReadOnlySpan<byte> tail) =>
        IdAtEndPattern().Match(Encoding.UTF8.GetString(tail)) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex("""[,{]\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,128}")\s*}\s*$""")]
    private static partial Regex IdAtEndPattern();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _line.Dispose();
        }
        base.Dispose(disposing);
    }
}
