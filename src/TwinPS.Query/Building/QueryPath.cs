namespace TwinPS.Query;

/// <summary>Writes property paths in query syntax, quoting segments with [[ ]] where the grammar needs it.</summary>
public static class QueryPath
{
    /// <summary>
    /// Joins segments with '.', writing a segment as is when it is a plain identifier (ASCII letters, digits and '_',
    /// not starting with a digit, optionally '$'-prefixed) that is not a reserved word, else as <c>[[segment]]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">No segments, a null segment, or a segment that cannot be quoted (it contains ']]' or ends with ']').</exception>
    public static string Format(IEnumerable<string> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var parts = new List<string>();
        foreach (var segment in segments)
        {
            parts.Add(FormatSegment(segment, parts.Count));
        }

        if (parts.Count == 0)
        {
            throw new ArgumentException("A property path needs at least one segment.", nameof(segments));
        }

        return string.Join('.', parts);
    }

    /// <summary>
    /// Formats a dotted path such as <c>tags.location.plant</c> (twin property names cannot contain '.', so every
    /// '.' separates segments).
    /// </summary>
    /// <exception cref="ArgumentException">The path is empty, has an empty segment, or a segment that cannot be quoted.</exception>
    public static string FormatDotted(string dotted)
    {
        ArgumentNullException.ThrowIfNull(dotted);
        var segments = dotted.Split('.');
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].Length == 0)
            {
                throw new ArgumentException($"The property path '{dotted}' has an empty segment (at segment {i + 1}).", nameof(dotted));
            }
        }

        return Format(segments);
    }

    /// <summary>True when the segment can be written without [[ ]] quoting.</summary>
    public static bool IsPlainSegment(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var start = segment.StartsWith('$') ? 1 : 0;
        if (segment.Length <= start)
        {
            return false;
        }

        if (start == 0 && !(char.IsAsciiLetter(segment[0]) || segment[0] == '_'))
        {
            return false;
        }

        for (var i = start; i < segment.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(segment[i]) || segment[i] == '_'))
            {
                return false;
            }
        }

        return !Keywords.IsReserved(segment);
    }

    /// <summary>True for the grammar's reserved words (select, from, where, group, by, as, and, or, not, in, nin, top, true, false, null, undefined), in any case.</summary>
    public static bool IsReservedWord(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Keywords.IsReserved(name);
    }

    private static string FormatSegment(string segment, int index)
    {
        if (segment is null)
        {
            throw new ArgumentException($"Path segment {index + 1} is null.", nameof(segment));
        }

        if (IsPlainSegment(segment))
        {
            return segment;
        }

        if (segment.Contains("]]", StringComparison.Ordinal) || segment.EndsWith(']'))
        {
            throw new ArgumentException($"The property name '{segment}' cannot be written in an IoT Hub query: it contains ']]' or ends with ']'.", nameof(segment));
        }

        return "[[" + segment + "]]";
    }
}
