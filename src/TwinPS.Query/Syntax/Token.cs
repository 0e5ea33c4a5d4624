namespace TwinPS.Query;

internal enum TokenKind
{
    End,
    Identifier,
    QuotedName,
    String,
    Number,
    Star,
    Comma,
    Dot,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Plus,
    Minus,
    Slash,
    Percent,
}

/// <summary>One lexical token: its kind, its span in the text, and its decoded value.</summary>
/// <param name="Text">Identifier name, [[quoted]] name or decoded string value.</param>
/// <param name="Number">Numeric value of a number token.</param>
internal readonly record struct Token(TokenKind Kind, int Start, int Length, string? Text = null, double Number = 0)
{
    public int End => Start + Length;

    public bool IsKeyword(string keyword) =>
        Kind == TokenKind.Identifier && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);
}
