using System.Globalization;
using System.Text;

namespace TwinPS.Query;

/// <summary>Splits query text into tokens; every error names the offending position.</summary>
internal sealed class QueryLexer
{
    private readonly string _text;
    private int _pos;

    private QueryLexer(string text) => _text = text;

    public static List<Token> Tokenize(string text)
    {
        var lexer = new QueryLexer(text);
        var tokens = new List<Token>();
        Token token;
        do
        {
            token = lexer.Next();
            tokens.Add(token);
        }
        while (token.Kind != TokenKind.End);

        return tokens;
    }

    /// <summary>Plain identifier rules shared with <see cref="QueryPath"/>: letters, digits, '_', optional leading '$'.</summary>
    public static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    public static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';

    private QuerySyntaxException Error(int position, int length, string reason) => new(_text, position, length, reason);

    private Token Next()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }

        if (_pos >= _text.Length)
        {
            return new Token(TokenKind.End, _text.Length, 0);
        }

        var start = _pos;
        var c = _text[_pos];
        if (IsIdentifierStart(c) || c == '$')
        {
            return ReadIdentifier(start);
        }

        if (char.IsAsciiDigit(c))
        {
            return ReadNumber(start);
        }

        switch (c)
        {
            case '\'':
            case '"':
                return ReadString(start, c);
            case '[':
                if (Peek(1) == '[')
                {
                    return ReadQuotedName(start);
                }

                return Single(TokenKind.LeftBracket);
            case ']': return Single(TokenKind.RightBracket);
            case '*': return Single(TokenKind.Star);
            case ',': return Single(TokenKind.Comma);
            case '.': return Single(TokenKind.Dot);
            case '(': return Single(TokenKind.LeftParen);
            case ')': return Single(TokenKind.RightParen);
            case '+': return Single(TokenKind.Plus);
            case '-': return Single(TokenKind.Minus);
            case '/': return Single(TokenKind.Slash);
            case '%': return Single(TokenKind.Percent);
            case '=': return Single(TokenKind.Equal);
            case '!':
                if (Peek(1) == '=')
                {
                    return Double(TokenKind.NotEqual);
                }

                throw Error(start, 1, "unexpected character '!'; use != or NOT");
            case '<':
                return Peek(1) switch
                {
                    '=' => Double(TokenKind.LessOrEqual),
                    '>' => Double(TokenKind.NotEqual),
                    _ => Single(TokenKind.Less),
                };
            case '>':
                return Peek(1) == '=' ? Double(TokenKind.GreaterOrEqual) : Single(TokenKind.Greater);
            default:
                throw Error(start, 1, char.IsControl(c)
                    ? string.Create(CultureInfo.InvariantCulture, $"unexpected control character U+{(int)c:X4}")
                    : $"unexpected character '{c}'");
        }
    }

    private char Peek(int offset) => _pos + offset < _text.Length ? _text[_pos + offset] : '\0';

    private Token Single(TokenKind kind) => new(kind, _pos++, 1);

    private Token Double(TokenKind kind)
    {
        var token = new Token(kind, _pos, 2);
        _pos += 2;
        return token;
    }

    private Token ReadIdentifier(int start)
    {
        if (_text[_pos] == '$')
        {
            _pos++;
            if (_pos >= _text.Length || !IsIdentifierPart(_text[_pos]))
            {
                throw Error(start, 1, "'$' must be followed by a name, as in $version");
            }
        }

        while (_pos < _text.Length && IsIdentifierPart(_text[_pos]))
        {
            _pos++;
        }

        return new Token(TokenKind.Identifier, start, _pos - start, _text[start.._pos]);
    }

    private Token ReadNumber(int start)
    {
        double value;
        if (_text[_pos] == '0' && (Peek(1) == 'x' || Peek(1) == 'X'))
        {
            _pos += 2;
            var digitsStart = _pos;
            while (_pos < _text.Length && char.IsAsciiHexDigit(_text[_pos]))
            {
                _pos++;
            }

            if (_pos == digitsStart)
            {
                throw Error(start, _pos - start, "hexadecimal number needs at least one digit after 0x");
            }

            if (!ulong.TryParse(_text.AsSpan(digitsStart, _pos - digitsStart), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            {
                throw Error(start, _pos - start, "hexadecimal number is too large");
            }

            value = hex;
        }
        else
        {
            SkipDigits();
            if (Peek(0) == '.' && char.IsAsciiDigit(Peek(1)))
            {
                _pos++;
                SkipDigits();
            }

            if (Peek(0) is 'e' or 'E')
            {
                var exponentStart = _pos;
                _pos++;
                if (Peek(0) is '+' or '-')
                {
                    _pos++;
                }

                if (!char.IsAsciiDigit(Peek(0)))
                {
                    throw Error(exponentStart, _pos - exponentStart, "exponent needs at least one digit");
                }

                SkipDigits();
            }

            value = double.Parse(_text.AsSpan(start, _pos - start), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (double.IsInfinity(value))
            {
                throw Error(start, _pos - start, "number is too large");
            }
        }

        if (_pos < _text.Length && (IsIdentifierPart(_text[_pos]) || _text[_pos] == '$'))
        {
            var end = _pos;
            while (end < _text.Length && IsIdentifierPart(_text[end]))
            {
                end++;
            }

            throw Error(start, end - start, "invalid number (a name cannot start with a digit; quote it as [[name]])");
        }

        return new Token(TokenKind.Number, start, _pos - start, null, value);
    }

    private void SkipDigits()
    {
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
    }

    private Token ReadString(int start, char quote)
    {
        _pos++;
        StringBuilder? builder = null;
        var chunkStart = _pos;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error(start, _text.Length - start, "unterminated string literal");
            }

            var c = _text[_pos];
            if (c == quote)
            {
                break;
            }

            if (c != '\\')
            {
                _pos++;
                continue;
            }

            builder ??= new StringBuilder();
            builder.Append(_text, chunkStart, _pos - chunkStart);
            builder.Append(ReadEscape());
            chunkStart = _pos;
        }

        string value;
        if (builder is null)
        {
            value = _text[chunkStart.._pos];
        }
        else
        {
            builder.Append(_text, chunkStart, _pos - chunkStart);
            value = builder.ToString();
        }

        _pos++;
        if (Peek(0) == quote)
        {
            throw Error(_pos, 1, $"a string literal cannot follow another one; to put {quote} inside a string write \\{quote}, not {quote}{quote}");
        }

        return new Token(TokenKind.String, start, _pos - start, value);
    }

    private char ReadEscape()
    {
        var escapeStart = _pos;
        _pos++;
        if (_pos >= _text.Length)
        {
            throw Error(escapeStart, 1, "unterminated string literal");
        }

        var e = _text[_pos++];
        switch (e)
        {
            case '\'': return '\'';
            case '"': return '"';
            case '\\': return '\\';
            case '/': return '/';
            case 'b': return '\b';
            case 'f': return '\f';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'u':
                if (_pos + 4 <= _text.Length
                    && ushort.TryParse(_text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                {
                    _pos += 4;
                    return (char)code;
                }

                throw Error(escapeStart, Math.Min(6, _text.Length - escapeStart), "\\u must be followed by four hexadecimal digits");
            default:
                throw Error(escapeStart, 2, $"invalid escape sequence '\\{e}' (allowed: \\' \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
        }
    }

    private Token ReadQuotedName(int start)
    {
        var close = _text.IndexOf("]]", start + 2, StringComparison.Ordinal);
        if (close < 0)
        {
            throw Error(start, _text.Length - start, "unterminated [[name]]: expected ]]");
        }

        _pos = close + 2;
        return new Token(TokenKind.QuotedName, start, _pos - start, _text[(start + 2)..close]);
    }
}
