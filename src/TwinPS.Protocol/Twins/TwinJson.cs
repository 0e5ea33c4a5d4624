using System.Buffers.Binary;
using System.Globalization;

namespace TwinPS.Protocol;

/// <summary>Small twin JSON helpers: timestamps and twin etags.</summary>
public static class TwinJson
{
    /// <summary>The timestamp IoT Hub uses for "never": <c>0001-01-01T00:00:00Z</c>.</summary>
    public const string NeverTimestamp = "0001-01-01T00:00:00Z";

    /// <summary>
    /// Formats a timestamp as IoT Hub does: UTC, 7 fractional digits, <c>Z</c> (e.g. <c>2017-03-09T18:30:52.3167248Z</c>).
    /// <see cref="DateTimeOffset.MinValue"/> gives <see cref="NeverTimestamp"/>.
    /// </summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp == DateTimeOffset.MinValue
            ? NeverTimestamp
            : timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The documented twin size of a value (see <see cref="TwinValidator.ComputeSize"/>).</summary>
    public static long ComputeSize(System.Text.Json.Nodes.JsonNode? node) => TwinValidator.ComputeSize(node);

    /// <summary>A twin etag: base64 of the counter as a big-endian 64-bit integer (1 → <c>AAAAAAAAAAE=</c>).</summary>
    public static string FormatTwinEtag(long counter)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, counter);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Reads a twin etag (quotes allowed) back into its counter.</summary>
    public static bool TryParseTwinEtag(string? etag, out long counter)
    {
        counter = 0;
        var text = ETags.Unquote(etag);
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[12];
        if (!Convert.TryFromBase64String(text, bytes, out var written) || written != 8)
        {
            return false;
        }

        counter = BinaryPrimitives.ReadInt64BigEndian(bytes);
        return true;
    }
}
