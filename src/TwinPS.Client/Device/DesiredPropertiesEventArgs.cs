using System.Text.Json.Nodes;

namespace TwinPS.Client.Device;

/// <summary>A desired-properties patch the device received (or, when <see cref="IsSynthetic"/>, worked out after a reconnect).</summary>
public sealed class DesiredPropertiesEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public DesiredPropertiesEventArgs(JsonObject patch, long version, bool isSynthetic, DateTimeOffset receivedAt)
    {
        Patch = patch ?? throw new ArgumentNullException(nameof(patch));
        Version = version;
        IsSynthetic = isSynthetic;
        ReceivedAt = receivedAt;
    }

    /// <summary>The patch (JSON merge patch: a <c>null</c> member means the key was removed), without <c>$version</c>.</summary>
    public JsonObject Patch { get; }

    /// <summary>The desired section's <c>$version</c> after this patch.</summary>
    public long Version { get; }

    /// <summary>
    /// True when the hub did not send this patch: it is the difference between the desired properties the client knew and
    /// those it read after reconnecting (changes made while it was disconnected, or after a missed notification).
    /// </summary>
    public bool IsSynthetic { get; }

    /// <summary>When the client received (or computed) it.</summary>
    public DateTimeOffset ReceivedAt { get; }
}
