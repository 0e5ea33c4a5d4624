namespace TwinPS.Query;

/// <summary>An aggregate function in a SELECT list.</summary>
public enum AggregateFunction
{
    /// <summary>Not an aggregate: a plain property path.</summary>
    None,

    /// <summary><c>COUNT()</c>: number of rows.</summary>
    Count,

    /// <summary><c>AVG(path)</c>: mean of the numeric values.</summary>
    Avg,

    /// <summary><c>SUM(path)</c>: sum of the numeric values.</summary>
    Sum,

    /// <summary><c>MIN(path)</c>: smallest primitive value.</summary>
    Min,

    /// <summary><c>MAX(path)</c>: largest primitive value.</summary>
    Max,
}

/// <summary>One item of a SELECT list: a property path or an aggregate, with an optional alias.</summary>
public sealed class SelectItem
{
    internal SelectItem(AggregateFunction aggregate, PropertyPath? path, string? alias, int position)
    {
        Aggregate = aggregate;
        Path = path;
        Alias = alias;
        Position = position;
        CanonicalName = path is null || aggregate != AggregateFunction.None ? null : IdentityFields.CanonicalName(path.Segments);
    }

    /// <summary>The aggregate function, or <see cref="AggregateFunction.None"/> for a plain path.</summary>
    public AggregateFunction Aggregate { get; }

    /// <summary>The property path (null only for <c>COUNT()</c>).</summary>
    public PropertyPath? Path { get; }

    /// <summary>The alias given with AS, case kept; null when none.</summary>
    public string? Alias { get; }

    /// <summary>0-based offset of the item in the query text.</summary>
    public int Position { get; }

    /// <summary>The canonical camelCase name for an identity field path (deviceId, lastActivityTime …), else null.</summary>
    internal string? CanonicalName { get; }

    /// <summary>
    /// The result key as far as the query alone decides it: the alias, else the canonical identity-field name,
    /// else the last path segment as written (the result uses the document's spelling of that segment);
    /// an aggregate without alias is named after its function in lower case (<c>count</c>, <c>min</c> …).
    /// </summary>
    public string OutputName =>
        Alias ?? (Aggregate != AggregateFunction.None ? Aggregate.ToString().ToLowerInvariant() : CanonicalName ?? Path!.Segments[^1]);
}
