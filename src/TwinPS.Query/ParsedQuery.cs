using System.Text.Json.Nodes;

namespace TwinPS.Query;

/// <summary>
/// An immutable, validated IoT Hub query and its evaluator. Thread-safe: one instance may evaluate many documents
/// on many threads at once.
/// </summary>
public sealed class ParsedQuery
{
    private readonly SelectItem[] _selectItems;
    private readonly PropertyPath[] _groupBy;
    private readonly int? _fromStart;

    internal ParsedQuery(
        string text,
        QueryCollection collection,
        bool isSelectAll,
        IReadOnlyList<SelectItem> selectItems,
        int? top,
        QueryExpression? where,
        IReadOnlyList<PropertyPath> groupBy,
        int? fromStart)
    {
        _fromStart = fromStart;
        Text = text;
        Collection = collection;
        IsSelectAll = isSelectAll;
        _selectItems = [.. selectItems];
        Top = top;
        Where = where;
        _groupBy = [.. groupBy];
        HasAggregates = _selectItems.Any(i => i.Aggregate != AggregateFunction.None);
    }

    /// <summary>The query text as given.</summary>
    public string Text { get; }

    /// <summary>The FROM collection.</summary>
    public QueryCollection Collection { get; }

    /// <summary>True for <c>SELECT *</c>.</summary>
    public bool IsSelectAll { get; }

    /// <summary>The SELECT items (empty for <c>SELECT *</c>).</summary>
    public IReadOnlyList<SelectItem> SelectItems => _selectItems;

    /// <summary>The TOP limit, or null.</summary>
    public int? Top { get; }

    /// <summary>True when the SELECT list has COUNT/AVG/SUM/MIN/MAX.</summary>
    public bool HasAggregates { get; }

    /// <summary>The GROUP BY paths (empty when none).</summary>
    public IReadOnlyList<PropertyPath> GroupBy => _groupBy;

    /// <summary>The WHERE condition, or null.</summary>
    public QueryExpression? Where { get; }

    /// <summary>True when rows are computed over all matching documents (aggregates or GROUP BY).</summary>
    public bool IsAggregation => HasAggregates || _groupBy.Length > 0;

    /// <summary>
    /// The <c>x-ms-item-type</c> of the results: <c>Twin</c> for <c>SELECT *</c> over devices or modules,
    /// <c>DeviceJob</c> for devices.jobs, <c>Raw</c> for projections and aggregates.
    /// </summary>
    public string ResultItemType => Collection switch
    {
        QueryCollection.Jobs => "DeviceJob",
        _ when IsSelectAll => "Twin",
        _ => "Raw",
    };

    /// <summary>
    /// The query that counts the rows of this one: <c>SELECT COUNT() AS {alias}</c> with this query's FROM and WHERE
    /// exactly as written. Only a plain <c>SELECT *</c> over devices or modules has one (null for TOP, projections,
    /// aggregates, GROUP BY, devices.jobs and bare conditions), since only there is the number of rows the number of
    /// matching twins.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="alias"/> is not a plain name.</exception>
    public string? ToCountQuery(string alias = "total")
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        if (!alias.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || char.IsAsciiDigit(alias[0]))
        {
            throw new ArgumentException($"'{alias}' is not a plain name for a query's AS.", nameof(alias));
        }

        return _fromStart is int from && IsSelectAll && Top is null && !IsAggregation && Collection != QueryCollection.Jobs
            ? "SELECT COUNT() AS " + alias + " " + Text[from..]
            : null;
    }

    /// <summary>True when the WHERE condition is Boolean true for the document (always true without WHERE).</summary>
    public bool Matches(JsonObject document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return Where is null || Where.Evaluate(document).IsTrue;
    }

    /// <summary>
    /// The result row for one document of a non-aggregate query: for <c>SELECT *</c> the document itself (same
    /// instance), otherwise a new object with cloned values; a projected property missing on the document is left out.
    /// </summary>
    /// <exception cref="InvalidOperationException">The query has aggregates or GROUP BY (use <see cref="Execute"/>).</exception>
    public JsonObject Project(JsonObject document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (IsAggregation)
        {
            throw new InvalidOperationException("A query with aggregates or GROUP BY has no per-document projection; use Execute.");
        }

        if (IsSelectAll)
        {
            return document;
        }

        var row = new JsonObject();
        foreach (var item in _selectItems)
        {
            if (JsonLookup.TryResolve(document, item.Path!.LookupSegments, out var actualName, out var node))
            {
                row[item.Alias ?? item.CanonicalName ?? actualName] = node?.DeepClone();
            }
        }

        return row;
    }

    /// <summary>
    /// Runs WHERE, GROUP BY/aggregates, SELECT and TOP over the documents of the FROM collection (device twins,
    /// module twins or job records: choosing them is the caller's job). Lazy and streaming for non-aggregate
    /// queries; <c>SELECT *</c> rows are the same document instances (do not mutate them), other rows are new
    /// objects. Aggregate queries read all documents when first enumerated.
    /// </summary>
    public IEnumerable<JsonObject> Execute(IEnumerable<JsonObject> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        return IsAggregation ? Aggregation.Run(this, documents) : Stream(documents);
    }

    private IEnumerable<JsonObject> Stream(IEnumerable<JsonObject> documents)
    {
        if (Top == 0)
        {
            yield break;
        }

        var count = 0;
        foreach (var document in documents)
        {
            if (document is null || !Matches(document))
            {
                continue;
            }

            yield return IsSelectAll ? document : Project(document);
            if (++count == Top)
            {
                yield break;
            }
        }
    }

    /// <summary>The query text.</summary>
    public override string ToString() => Text;
}
