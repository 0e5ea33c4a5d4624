using System.Globalization;

namespace TwinPS.Query;

/// <summary>
/// A query text that the IoT Hub query language does not accept, with the position of the offending token.
/// </summary>
public sealed class QuerySyntaxException : FormatException
{
    private const int MaxTokenLength = 40;

    /// <summary>The value of <see cref="Token"/> when the error is at the end of the text.</summary>
    public const string EndOfQuery = "end of query";

    /// <summary>Creates an exception with a generic message and no position.</summary>
    public QuerySyntaxException()
        : this("The query is invalid.")
    {
    }

    /// <summary>Creates an exception with the given message and no position.</summary>
    public QuerySyntaxException(string message)
        : base(message)
    {
        Reason = message;
        Token = EndOfQuery;
        Line = 1;
        Column = 1;
    }

    /// <summary>Creates an exception with the given message and inner exception and no position.</summary>
    public QuerySyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
        Token = EndOfQuery;
        Line = 1;
        Column = 1;
    }

    internal QuerySyntaxException(string queryText, int position, int length, string reason)
        : this(position, reason, Describe(queryText, position, length))
    {
    }

    private QuerySyntaxException(int position, string reason, (int Line, int Column, string Token) where)
        : base(FormatMessage(where.Line, where.Column, where.Token, reason))
    {
        Position = position;
        Line = where.Line;
        Column = where.Column;
        Token = where.Token;
        Reason = reason;
    }

    /// <summary>0-based character offset of the offending token in the query text.</summary>
    public int Position { get; }

    /// <summary>1-based line of the offending token.</summary>
    public int Line { get; }

    /// <summary>1-based column of the offending token.</summary>
    public int Column { get; }

    /// <summary>The offending token as written (shortened when long), or "end of query".</summary>
    public string Token { get; }

    /// <summary>What was wrong, without the position prefix (for example "expected FROM").</summary>
    public string Reason { get; }

    private static string FormatMessage(int line, int column, string token, string reason)
    {
        var near = token == EndOfQuery ? "near end of query" : $"near '{token}'";
        var sentence = reason.EndsWith('.') ? reason : reason + ".";
        return string.Create(CultureInfo.InvariantCulture, $"Syntax error at line {line}, column {column} {near}: {sentence}");
    }

    private static (int Line, int Column, string Token) Describe(string text, int position, int length)
    {
        position = Math.Clamp(position, 0, text.Length);
        int line = 1, lineStart = 0;
        for (var i = 0; i < position; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        string token;
        if (position >= text.Length)
        {
            token = EndOfQuery;
        }
        else
        {
            length = Math.Clamp(length, 1, text.Length - position);
            var lineBreak = text.AsSpan(position, length).IndexOfAny('\r', '\n');
            var shown = Math.Min(lineBreak > 0 ? lineBreak : length, MaxTokenLength);
            token = shown < length
                ? string.Concat(text.AsSpan(position, shown), "...")
                : text.Substring(position, length);
        }

        return (line, position - lineStart + 1, token);
    }
}
