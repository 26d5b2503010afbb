using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Intake.GitHub.Webhooks;

/// <summary>
/// A webhook body read once, its HMAC-SHA256 (GITHUB_WEBHOOK_SECRET) computed over the bytes as they arrive. Kestrel's
/// request size limit on the endpoint stops the read past <see cref="WebhookEndpoint.MaxBodyBytes"/>, chunked or not.
/// The bytes go into fixed-size segments from a pool of this class's own, given back when the delivery is done: with
/// at most <see cref="WebhookEndpoint.MaxConcurrentDeliveries"/> read at once, bodies never hold more than that many
/// times the limit, however many deliveries arrive and whether or not they are signed.
/// </summary>
public sealed class SignedBody : IDisposable
{
    private const int SegmentBytes = 64 * 1024;

    private static readonly ArrayPool<byte> Segments = ArrayPool<byte>.Create(
        SegmentBytes, WebhookEndpoint.MaxConcurrentDeliveries * (WebhookEndpoint.MaxBodyBytes / SegmentBytes + 1));

    private readonly List<byte[]> _segments;
    private readonly int _length;

    private SignedBody(List<byte[]> segments, int length, bool signatureMatches) =>
        (_segments, _length, SignatureMatches) = (segments, length, signatureMatches);

    /// <summary>Whether <c>X-Hub-Signature-256</c> is the body's HMAC, compared in constant time.</summary>
    public bool SignatureMatches { get; }

    /// <summary>The body, segment after segment, as JSON and hashing read it; valid until disposed.</summary>
    public ReadOnlySequence<byte> Bytes
    {
        get
        {
            if (_segments.Count == 0)
                return ReadOnlySequence<byte>.Empty;
            Segment first = new(_segments[0].AsMemory(0, Math.Min(SegmentBytes, _length)), 0), last = first;
            for (var i = 1; i < _segments.Count; i++)
                last = last.Append(_segments[i].AsMemory(0, Math.Min(SegmentBytes, _length - i * SegmentBytes)));
            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }

    /// <returns>The body, or null when it is larger than the endpoint allows (the caller answers 413).</returns>
    public static async Task<SignedBody?> ReadAsync(HttpRequest request, string secret, CancellationToken cancellationToken)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        var segments = new List<byte[]>();
        var length = 0;
        try
        {
            while (true)
            {
                var offset = length % SegmentBytes;
                if (offset == 0 && length / SegmentBytes == segments.Count)
                    segments.Add(Segments.Rent(SegmentBytes));
                var read = await request.Body.ReadAsync(segments[^1].AsMemory(offset, SegmentBytes - offset), cancellationToken);
                if (read == 0)
                    break;
                hmac.AppendData(segments[^1], offset, read);
                length += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            Return(segments);
            return null;
        }
        catch
        {
            Return(segments);
            throw;
        }
        return new SignedBody(segments, length, Matches(hmac.GetHashAndReset(), request.Headers["X-Hub-Signature-256"].ToString()));
    }

    public byte[] Hash()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var segment in Bytes)
            sha.AppendData(segment.Span);
        return sha.GetHashAndReset();
    }

    public void Dispose() => Return(_segments);

    private static void Return(List<byte[]> segments)
    {
        foreach (var segment in segments)
            Segments.Return(segment);
        segments.Clear();
    }

    public static bool Matches(byte[] expected, string header)
    {
        if (!header.StartsWith("sha256=", StringComparison.Ordinal) || header.Length != 7 + 64)
            return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(7));
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex) => (Memory, RunningIndex) = (memory, runningIndex);

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
