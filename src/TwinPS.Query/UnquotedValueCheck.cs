namespace TwinPS.Query;

/// <summary>
/// Finds comparisons whose other side is a bare name that no twin has at its root, such as <c>Redmond43</c> in
/// <c>WHERE tags.plant = Redmond43</c>: the language reads it as a property path, which is undefined on every twin, so
/// the query silently matches nothing. It is almost always a value whose quotes were forgotten.
/// </summary>
public static class UnquotedValueCheck
{
    // The roots a device or module twin document has (properties, tags, identity fields, configurations).
    private static readonly HashSet<string> TwinRoots = new(StringComparer.OrdinalIgnoreCase)
    {
        "tags", "properties", "configurations", "deviceId", "moduleId", "etag", "deviceEtag", "status", "statusReason",
        "statusUpdateTime", "connectionState", "lastActivityTime", "cloudToDeviceMessageCount", "authenticationType",
        "x509Thumbprint", "version", "capabilities", "modelId", "deviceScope", "parentScopes", "devices",
    };

    /// <summary>
    /// The paths in comparisons of <paramref name="query"/>'s WHERE clause whose root no device or module twin has
    /// (none for a <c>devices.jobs</c> query, whose documents are not twins).
    /// </summary>
    public static IReadOnlyList<PropertyPath> FindSuspects(ParsedQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var suspects = new List<PropertyPath>();
        if (query.Collection != QueryCollection.Jobs && query.Where is not null)
        {
            Visit(query.Where, suspects);
        }

        return suspects;
    }

    /// <summary>
    /// A warning for each suspect of <paramref name="queryText"/> (none when the text does not parse: the hub's own
    /// error says more then).
    /// </summary>
    public static IReadOnlyList<string> Warnings(string queryText)
    {
        if (!IoTHubQuery.TryParse(queryText, out ParsedQuery? query))
        {
            return [];
        }

        return FindSuspects(query).Select(path =>
            $"'{path}' in the query is read as a property path, and no twin has a property '{path.Segments[0]}' at its root, " +
            $"so this comparison matches nothing. If it is a value, quote it: {QueryLiteral.Quote(path.ToString())}.")
            .ToArray();
    }

    private static void Visit(QueryExpression expression, List<PropertyPath> suspects)
    {
        switch (expression)
        {
            case BinaryExpression binary:
                if (binary.IsComparison)
                {
                    Check(binary.Left, suspects);
                    Check(binary.Right, suspects);
                }

                Visit(binary.Left, suspects);
                Visit(binary.Right, suspects);
                break;
            case LogicalExpression logical:
                foreach (QueryExpression operand in logical.Operands)
                {
                    Visit(operand, suspects);
                }

                break;
            case NotExpression not:
                Visit(not.Operand, suspects);
                break;
            case NegateExpression negate:
                Visit(negate.Operand, suspects);
                break;
            case FunctionCallExpression call:
                foreach (QueryExpression argument in call.Arguments)
                {
                    Visit(argument, suspects);
                }

                break;
        }
    }

    private static void Check(QueryExpression side, List<PropertyPath> suspects)
    {
        if (side is PathExpression { Path: var path } && path.Segments.Count > 0 && !TwinRoots.Contains(path.Segments[0]) &&
            !suspects.Contains(path))
        {
            suspects.Add(path);
        }
    }
}
