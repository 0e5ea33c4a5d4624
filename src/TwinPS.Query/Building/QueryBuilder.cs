namespace TwinPS.Query;

/// <summary>Builds query text from user values with safe quoting of paths and literals.</summary>
public static class QueryBuilder
{
    /// <summary>
    /// One condition on a dotted path (<c>tags.location.plant</c>): <c>path = literal</c>; a sequence value gives
    /// <c>path IN [...]</c>; null gives <c>NOT IS_DEFINED(path)</c> (twins never store null, so "is null" means "is absent").
    /// </summary>
    /// <exception cref="ArgumentException">The path or value cannot be written in a query.</exception>
    public static string Condition(string dottedPath, object? value)
    {
        var path = QueryPath.FormatDotted(dottedPath);
        return value switch
        {
            null => $"NOT IS_DEFINED({path})",
            string or char => $"{path} = {QueryLiteral.Format(value)}",
            System.Collections.IEnumerable => $"{path} IN {QueryLiteral.Format(value)}",
            _ => $"{path} = {QueryLiteral.Format(value)}",
        };
    }

    /// <summary>
    /// The conditions of <see cref="Condition"/> joined with AND, in the given order; empty when there are none.
    /// For example <c>("tags.location.plant", "Redmond43")</c> gives <c>tags.location.plant = 'Redmond43'</c>.
    /// </summary>
    public static string BuildWhere(IEnumerable<(string Path, object? Value)> equalities)
    {
        ArgumentNullException.ThrowIfNull(equalities);
        return string.Join(" AND ", equalities.Select(e => Condition(e.Path, e.Value)));
    }

    /// <summary>The conditions for keys under a section prefix, e.g. prefix <c>tags</c> and key <c>location.plant</c>.</summary>
    public static string BuildWhere(string prefix, IEnumerable<KeyValuePair<string, object?>> equalities)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(equalities);
        return BuildWhere(equalities.Select(e => (prefix.Length == 0 ? e.Key : prefix + "." + e.Key, e.Value)));
    }

    /// <summary><c>SELECT * FROM &lt;collection&gt;</c> with <c>WHERE &lt;where&gt;</c> when the condition is not empty.</summary>
    public static string SelectAll(QueryCollection collection, string? where)
    {
        var from = collection switch
        {
            QueryCollection.Modules => "devices.modules",
            QueryCollection.Jobs => "devices.jobs",
            _ => "devices",
        };
        return string.IsNullOrWhiteSpace(where) ? $"SELECT * FROM {from}" : $"SELECT * FROM {from} WHERE {where}";
    }
}
