using System.Text;

namespace Orchestrator.ToolGateway.Sandboxes;

/// <summary>
/// One stream of a command's output as the agent sees it: its first and last <c>limit</c> bytes, and how many were in
/// between (not kept: a command that prints gigabytes costs the gateway twice the limit).
/// </summary>
public sealed class CommandOutput(int limit)
{
    private readonly MemoryStream _head = new();
    private readonly byte[] _tail = new byte[limit];
    private long _total;
    private int _tailStart;
    private int _tailLength;

    public long Total => _total;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        _total += bytes.Length;
        var toHead = (int)Math.Min(bytes.Length, limit - _head.Length);
        if (toHead > 0)
        {
            _head.Write(bytes[..toHead]);
            bytes = bytes[toHead..];
        }
        // Past the head, the last `limit` bytes in a ring.
        if (bytes.Length >= limit)
        {
            bytes[^limit..].CopyTo(_tail);
            (_tailStart, _tailLength) = (0, limit);
            return;
        }
        foreach (var b in bytes)
        {
            _tail[(_tailStart + _tailLength) % limit] = b;
            if (_tailLength < limit)
                _tailLength++;
            else
                _tailStart = (_tailStart + 1) % limit;
        }
    }

    public async Task ReadFromAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            Write(buffer.AsSpan(0, read));
    }

    /// <summary>The text, with a marker where bytes were left out.</summary>
    public override string ToString()
    {
        var head = Encoding.UTF8.GetString(_head.GetBuffer(), 0, (int)_head.Length);
        if (_tailLength == 0)
            return head;
        var tail = new byte[_tailLength];
        for (var i = 0; i < _tailLength; i++)
            tail[i] = _tail[(_tailStart + i) % limit];
        var cut = _total - _head.Length - _tailLength;
        return cut > 0
            ? $"{head}\n[… {cut:N0} bytes cut …]\n{Encoding.UTF8.GetString(tail)}"
            : head + Encoding.UTF8.GetString(tail);
    }
}

/// <summary>How a command in the sandbox ended.</summary>
/// <param name="ExitCode">Its exit code; -1 when it was killed at its timeout.</param>
public sealed record CommandResult(int ExitCode, TimeSpan Duration, bool TimedOut, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>The result as the agent reads it.</summary>
    public string Describe(TimeSpan timeout) => new StringBuilder()
        .AppendLine(TimedOut ? $"killed: no exit within the timeout of {timeout.TotalSeconds:0.#} s (the whole process group)" : $"exit code: {ExitCode}")
        .AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"duration: {Duration.TotalSeconds:0.00} s")
        .AppendLine("--- stdout ---").AppendLine(Stdout.TrimEnd())
        .AppendLine("--- stderr ---").Append(Stderr.TrimEnd())
        .ToString();
}
