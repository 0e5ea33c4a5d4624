using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TwinPS.Query;

/// <summary>
/// GROUP BY and aggregates. Rows are emitted in order of each group's first document. Documents whose group path
/// is undefined form one group of their own, whose row lacks that key. COUNT() counts rows; SUM and AVG use the
/// numeric values only; MIN and MAX compare primitives in the order null &lt; false &lt; true &lt; numbers &lt; strings.
/// </summary>
internal static class Aggregation
{
    public static IEnumerable<JsonObject> Run(ParsedQuery query, IEnumerable<JsonObject> documents)
    {
        var items = query.SelectItems;
        var groups = new Dictionary<string, Group>(StringComparer.Ordinal);
        var order = new List<Group>();
        if (query.GroupBy.Count == 0)
        {
            var all = new Group(items.Count, null);
            groups.Add(string.Empty, all);
            order.Add(all);
        }

        var keyBuilder = new StringBuilder();
        foreach (var document in documents)
        {
            if (document is null || !query.Matches(document))
            {
                continue;
            }

            var key = GroupKey(query.GroupBy, document, keyBuilder);
            if (!groups.TryGetValue(key, out var group))
            {
                group = new Group(items.Count, document);
                groups.Add(key, group);
                order.Add(group);
            }

            group.Add(items, document);
        }

        var rows = order.Select(g => g.ToRow(items));
        return query.Top is { } top ? rows.Take(top) : rows;
    }

    private static string GroupKey(IReadOnlyList<PropertyPath> groupBy, JsonObject document, StringBuilder builder)
    {
        if (groupBy.Count == 0)
        {
            return string.Empty;
        }

        builder.Clear();
        foreach (var path in groupBy)
        {
            var value = JsonLookup.Evaluate(document, path.LookupSegments);
            switch (value.Kind)
            {
                case ValueKind.Undefined: builder.Append('u'); break;
                case ValueKind.Null: builder.Append('n'); break;
                case ValueKind.Boolean: builder.Append(value.IsTrue ? "t" : "f"); break;
                case ValueKind.Number: builder.Append('d').Append(value.Number.ToString("R", CultureInfo.InvariantCulture)); break;
                case ValueKind.String: builder.Append('s').Append(value.Text!.Length).Append(':').Append(value.Text); break;
                default: builder.Append('j').Append(value.Node!.ToJsonString().Length).Append(':').Append(value.Node.ToJsonString()); break;
            }

            builder.Append('|');
        }

        return builder.ToString();
    }

    /// <summary>Rank of a primitive's type for MIN/MAX.</summary>
    private static int TypeRank(ValueKind kind) => kind switch
    {
        ValueKind.Null => 0,
        ValueKind.Boolean => 1,
        ValueKind.Number => 2,
        _ => 3,
    };

    private static int CompareForOrder(in QueryValue a, in QueryValue b)
    {
        var rank = TypeRank(a.Kind).CompareTo(TypeRank(b.Kind));
        if (rank != 0)
        {
            return rank;
        }

        return a.Kind == ValueKind.String ? string.CompareOrdinal(a.Text, b.Text) : a.Number.CompareTo(b.Number);
    }

    private sealed class Group(int itemCount, JsonObject? representative)
    {
        private readonly double[] _sums = new double[itemCount];
        private readonly long[] _numberCounts = new long[itemCount];
        private readonly QueryValue[] _best = new QueryValue[itemCount];
        private long _count;

        public void Add(IReadOnlyList<SelectItem> items, JsonObject document)
        {
            _count++;
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                if (item.Aggregate is AggregateFunction.None or AggregateFunction.Count)
                {
                    continue;
                }

                var value = JsonLookup.Evaluate(document, item.Path!.LookupSegments);
                switch (item.Aggregate)
                {
                    case AggregateFunction.Sum or AggregateFunction.Avg when value.Kind == ValueKind.Number:
                        _sums[i] += value.Number;
                        _numberCounts[i]++;
                        break;
                    case AggregateFunction.Min or AggregateFunction.Max when value.IsPrimitive:
                        if (_best[i].Kind == ValueKind.Undefined
                            || (CompareForOrder(value, _best[i]) is var c && (item.Aggregate == AggregateFunction.Min ? c < 0 : c > 0)))
                        {
                            _best[i] = value;
                        }

                        break;
                }
            }
        }

        public JsonObject ToRow(IReadOnlyList<SelectItem> items)
        {
            var row = new JsonObject();
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                switch (item.Aggregate)
                {
                    case AggregateFunction.Count:
                        row[item.OutputName] = _count;
                        break;
                    case AggregateFunction.Sum:
                        row[item.OutputName] = QueryValue.NumberNode(_sums[i]);
                        break;
                    case AggregateFunction.Avg when _numberCounts[i] > 0:
                        row[item.OutputName] = QueryValue.NumberNode(_sums[i] / _numberCounts[i]);
                        break;
                    case AggregateFunction.Min or AggregateFunction.Max when _best[i].Kind != ValueKind.Undefined:
                        row[item.OutputName] = _best[i].ToNode();
                        break;
                    case AggregateFunction.None when representative is not null
                        && JsonLookup.TryResolve(representative, item.Path!.LookupSegments, out var actualName, out var node):
                        row[item.Alias ?? item.CanonicalName ?? actualName] = node?.DeepClone();
                        break;
                }
            }

            return row;
        }
    }
}
