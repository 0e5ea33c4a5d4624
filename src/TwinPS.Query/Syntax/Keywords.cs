namespace TwinPS.Query;

/// <summary>Reserved words of the query grammar; as a property name they need [[ ]] quoting.</summary>
internal static class Keywords
{
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "select", "from", "where", "group", "by", "as", "and", "or", "not", "in", "nin", "top",
        "true", "false", "null", "undefined",
    };

    public static bool IsReserved(string name) => Reserved.Contains(name);
}

/// <summary>Names of the scalar and aggregate functions.</summary>
internal static class QueryFunctions
{
    public const string IsDefined = "IS_DEFINED";
    public const string StartsWith = "STARTSWITH";
    public const string EndsWith = "ENDSWITH";

    public const string SupportedList = "IS_DEFINED, STARTSWITH and ENDSWITH";

    public static string? Scalar(string name) =>
        name.ToUpperInvariant() switch
        {
            IsDefined => IsDefined,
            StartsWith => StartsWith,
            EndsWith => EndsWith,
            _ => null,
        };

    public static AggregateFunction Aggregate(string name) =>
        name.ToUpperInvariant() switch
        {
            "COUNT" => AggregateFunction.Count,
            "AVG" => AggregateFunction.Avg,
            "SUM" => AggregateFunction.Sum,
            "MIN" => AggregateFunction.Min,
            "MAX" => AggregateFunction.Max,
            _ => AggregateFunction.None,
        };

    /// <summary>Functions of the routing query language that twin queries reject, for a more helpful message.</summary>
    public static bool IsRoutingOnly(string name) =>
        name.ToUpperInvariant() is "STARTS_WITH" or "ENDS_WITH" or "CONTAINS" or "IS_NULL" or "IS_BOOL" or "IS_NUMBER"
            or "IS_STRING" or "IS_OBJECT" or "IS_PRIMITIVE" or "IS_ARRAY" or "AS_NUMBER" or "LOWER" or "UPPER"
            or "LENGTH" or "SUBSTRING" or "INDEX_OF" or "CONCAT" or "ABS" or "EXP" or "POWER" or "SQUARE"
            or "CEILING" or "FLOOR" or "SIGN" or "SQRT";
}
