using System.Diagnostics.CodeAnalysis;
using TwinPS.Protocol;

namespace TwinPS.Query;

/// <summary>Entry point of the IoT Hub query language: parse, validate and diagnose query text.</summary>
public static class IoTHubQuery
{
    /// <summary>The longest query text IoT Hub accepts, in characters.</summary>
    public const int MaxQueryLength = IoTHubLimits.MaxQueryLength;

    /// <summary>How deeply expressions may nest (parentheses, NOT, operator chains) before the query is rejected.</summary>
    public const int MaxNestingDepth = 100;

    /// <summary>Parses and validates a query.</summary>
    /// <exception cref="QuerySyntaxException">The text is not a valid twin query; the exception names the position.</exception>
    public static ParsedQuery Parse(string text) => QueryParser.Parse(text);

    /// <summary>
    /// Parses a bare WHERE condition such as a job's <c>queryCondition</c> or a configuration's
    /// <c>targetCondition</c> (<c>tags.env = 'prod'</c>) as <c>SELECT * FROM devices WHERE condition</c>.
    /// <c>*</c> or an empty condition matches every twin. Error positions are offsets in <paramref name="condition"/>.
    /// </summary>
    /// <exception cref="QuerySyntaxException">The condition is not valid.</exception>
    public static ParsedQuery ParseCondition(string condition) => QueryParser.ParseCondition(condition);

    /// <summary>Parses a query; false (and null) when it is not valid.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out ParsedQuery? query)
    {
        query = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            query = QueryParser.Parse(text);
            return true;
        }
        catch (QuerySyntaxException)
        {
            return false;
        }
    }

    /// <summary>
    /// Null when the query is valid; otherwise the syntax error with its position, so that a caller can point at the
    /// offending token when the hub answers only "the query is invalid".
    /// </summary>
    public static QuerySyntaxException? Diagnose(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            QueryParser.Parse(text);
            return null;
        }
        catch (QuerySyntaxException ex)
        {
            return ex;
        }
    }
}
