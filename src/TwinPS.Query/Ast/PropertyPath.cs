namespace TwinPS.Query;

/// <summary>A dotted property path as written in a query (for example <c>tags.location.plant</c>).</summary>
public sealed class PropertyPath : IEquatable<PropertyPath>
{
    internal PropertyPath(IReadOnlyList<string> segments, int position, int length, int lookupStart)
    {
        Segments = segments;
        Position = position;
        Length = length;
        LookupSegments = segments.Skip(lookupStart).ToArray();
    }

    /// <summary>The segments, with [[ ]] quoting removed.</summary>
    public IReadOnlyList<string> Segments { get; }

    /// <summary>0-based offset of the path in the query text.</summary>
    public int Position { get; }

    /// <summary>Length of the path in the query text.</summary>
    public int Length { get; }

    /// <summary>The segments looked up in a document (a jobs query drops its <c>devices.jobs</c> prefix).</summary>
    internal string[] LookupSegments { get; }

    /// <summary>Equal when the segments are equal ignoring case (property names are case-insensitive).</summary>
    public bool Equals(PropertyPath? other) =>
        other is not null
        && other.Segments.Count == Segments.Count
        && Segments.Zip(other.Segments).All(p => string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PropertyPath);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var segment in Segments)
        {
            hash.Add(segment, StringComparer.OrdinalIgnoreCase);
        }

        return hash.ToHashCode();
    }

    /// <summary>The path in query syntax, quoting segments where needed.</summary>
    public override string ToString() => QueryPath.Format(Segments);
}
