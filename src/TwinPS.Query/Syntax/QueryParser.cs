using System.Globalization;

namespace TwinPS.Query;

/// <summary>Recursive-descent parser for the IoT Hub query language (grammar in the reference, Part B.1).</summary>
internal sealed class QueryParser
{
    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _index;
    private int _nesting;
    private QueryCollection? _collection;

    private QueryParser(string text, List<Token> tokens)
    {
        _text = text;
        _tokens = tokens;
    }

    public static ParsedQuery Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > IoTHubQuery.MaxQueryLength)
        {
            throw new QuerySyntaxException(
                text,
                IoTHubQuery.MaxQueryLength,
                1,
                string.Create(CultureInfo.InvariantCulture, $"the query is longer than {IoTHubQuery.MaxQueryLength} characters ({text.Length})"));
        }

        return new QueryParser(text, QueryLexer.Tokenize(text)).ParseQuery();
    }

    /// <summary>A bare condition (a job's queryCondition, a configuration's targetCondition) over device twins.</summary>
    public static ParsedQuery ParseCondition(string condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        if (condition.Length > IoTHubQuery.MaxQueryLength)
        {
            throw new QuerySyntaxException(
                condition,
                IoTHubQuery.MaxQueryLength,
                1,
                string.Create(CultureInfo.InvariantCulture, $"the condition is longer than {IoTHubQuery.MaxQueryLength} characters ({condition.Length})"));
        }

        var parser = new QueryParser(condition, QueryLexer.Tokenize(condition)) { _collection = QueryCollection.Devices };
        QueryExpression? where = null;
        if (parser.Current.Kind == TokenKind.Star && parser.Peek(1).Kind == TokenKind.End)
        {
            parser.Advance();
        }
        else if (parser.Current.Kind != TokenKind.End)
        {
            where = parser.ParseExpression();
        }

        if (parser.Current.Kind != TokenKind.End)
        {
            throw parser.Error(parser.Current, "expected AND, OR or end of condition");
        }

        return new ParsedQuery(condition, QueryCollection.Devices, true, [], null, where, [], fromStart: null);
    }

    private Token Current => _tokens[_index];

    private Token Peek(int offset) => _tokens[Math.Min(_index + offset, _tokens.Count - 1)];

    private Token Advance()
    {
        var token = _tokens[_index];
        if (token.Kind != TokenKind.End)
        {
            _index++;
        }

        return token;
    }

    private bool TryConsume(TokenKind kind)
    {
        if (Current.Kind != kind)
        {
            return false;
        }

        Advance();
        return true;
    }

    private bool TryConsumeKeyword(string keyword)
    {
        if (!Current.IsKeyword(keyword))
        {
            return false;
        }

        Advance();
        return true;
    }

    private Token Expect(TokenKind kind, string reason) =>
        Current.Kind == kind ? Advance() : throw Error(Current, reason);

    private void ExpectKeyword(string keyword, string reason)
    {
        if (!TryConsumeKeyword(keyword))
        {
            throw Error(Current, reason);
        }
    }

    private QuerySyntaxException Error(Token token, string reason) => new(_text, token.Start, token.Length, reason);

    private QuerySyntaxException Error(int position, int length, string reason) => new(_text, position, length, reason);

    private ParsedQuery ParseQuery()
    {
        if (Current.Kind == TokenKind.End)
        {
            throw Error(Current, "the query is empty; expected SELECT");
        }

        ExpectKeyword("SELECT", "expected SELECT");
        int? top = TryConsumeKeyword("TOP") ? ParseTop() : null;

        var selectAll = false;
        List<SelectItem> items = [];
        if (Current.Kind == TokenKind.Star)
        {
            Advance();
            selectAll = true;
        }
        else
        {
            do
            {
                items.Add(ParseSelectItem());
            }
            while (TryConsume(TokenKind.Comma));
        }

        if (Current.Kind == TokenKind.Comma && selectAll)
        {
            throw Error(Current, "'*' cannot be combined with other SELECT items");
        }

        int fromStart = Current.Start;
        ExpectKeyword("FROM", "expected FROM");
        _collection = ParseCollection();

        QueryExpression? where = null;
        if (TryConsumeKeyword("WHERE"))
        {
            where = ParseExpression();
        }

        List<PropertyPath> groupBy = [];
        var groupToken = Current;
        if (TryConsumeKeyword("GROUP"))
        {
            if (_collection == QueryCollection.Jobs)
            {
                throw Error(groupToken, "queries on devices.jobs do not support GROUP BY");
            }

            if (selectAll)
            {
                throw Error(groupToken, "SELECT * cannot be used with GROUP BY; select the grouped path and aggregates");
            }

            ExpectKeyword("BY", "expected BY after GROUP");
            do
            {
                groupBy.Add(ParsePath(isCondition: false));
            }
            while (TryConsume(TokenKind.Comma));
        }

        if (Current.IsKeyword("ORDER"))
        {
            throw Error(Current, "ORDER BY is not supported by IoT Hub queries");
        }

        if (Current.Kind != TokenKind.End)
        {
            throw Error(Current, groupBy.Count > 0 ? "expected ',' or end of query"
                : where is not null ? "expected AND, OR, GROUP BY or end of query"
                : "expected WHERE, GROUP BY or end of query");
        }

        Validate(selectAll, items, groupBy);
        return new ParsedQuery(_text, _collection.Value, selectAll, items, top, where, groupBy, fromStart);
    }

    private int ParseTop()
    {
        var parenthesised = TryConsume(TokenKind.LeftParen);
        var token = Current;
        if (token.Kind != TokenKind.Number || token.Number < 0 || token.Number > int.MaxValue || Math.Floor(token.Number) != token.Number)
        {
            throw Error(token, "TOP needs a whole number from 0 to 2147483647");
        }

        Advance();
        if (parenthesised)
        {
            Expect(TokenKind.RightParen, "expected ')'");
        }

        return (int)token.Number;
    }

    private SelectItem ParseSelectItem()
    {
        var start = Current;
        if (start.Kind == TokenKind.Star)
        {
            throw Error(start, "'*' cannot be combined with other SELECT items");
        }

        if (start.Kind == TokenKind.Identifier && Peek(1).Kind == TokenKind.LeftParen)
        {
            return ParseAggregateItem(start);
        }

        var path = ParsePath(isCondition: false);
        return new SelectItem(AggregateFunction.None, path, ParseAlias(), start.Start);
    }

    private SelectItem ParseAggregateItem(Token name)
    {
        var aggregate = QueryFunctions.Aggregate(name.Text!);
        if (aggregate == AggregateFunction.None)
        {
            if (QueryFunctions.Scalar(name.Text!) is { } scalar)
            {
                throw Error(name, $"{scalar} cannot be used in the SELECT list; select property paths or COUNT(), AVG(), SUM(), MIN(), MAX()");
            }

            throw UnknownFunction(name);
        }

        var upper = aggregate.ToString().ToUpperInvariant();
        Advance();
        Advance();
        PropertyPath? path = null;
        if (aggregate == AggregateFunction.Count)
        {
            if (Current.Kind != TokenKind.RightParen)
            {
                throw Error(Current, "COUNT takes no argument; write COUNT()");
            }
        }
        else
        {
            if (Current.Kind == TokenKind.RightParen)
            {
                throw Error(Current, $"{upper} needs a property path, as in {upper}(properties.reported.temperature)");
            }

            path = ParsePath(isCondition: false);
        }

        Expect(TokenKind.RightParen, "expected ')'");
        return new SelectItem(aggregate, path, ParseAlias(), name.Start);
    }

    private string? ParseAlias()
    {
        if (!TryConsumeKeyword("AS"))
        {
            return null;
        }

        var token = Current;
        if (token.Kind == TokenKind.QuotedName || (token.Kind == TokenKind.Identifier && !Keywords.IsReserved(token.Text!)))
        {
            Advance();
            return token.Text;
        }

        throw Error(token, token.Kind == TokenKind.Identifier && Keywords.IsReserved(token.Text!)
            ? $"'{token.Text}' is a reserved word; write [[{token.Text}]] to use it as an alias"
            : "expected an alias name after AS");
    }

    private QueryCollection ParseCollection()
    {
        var token = Current;
        if (!token.IsKeyword("devices"))
        {
            throw Error(token, "expected devices, devices.modules or devices.jobs");
        }

        Advance();
        if (!TryConsume(TokenKind.Dot))
        {
            return QueryCollection.Devices;
        }

        var child = Current;
        if (child.IsKeyword("modules"))
        {
            Advance();
            return QueryCollection.Modules;
        }

        if (child.IsKeyword("jobs"))
        {
            Advance();
            return QueryCollection.Jobs;
        }

        throw Error(child, "expected modules or jobs after devices.");
    }

    private PropertyPath ParsePath(bool isCondition)
    {
        var first = Current;
        var segments = new List<string> { ParseSegment(isFirst: true) };
        while (Current.Kind == TokenKind.Dot)
        {
            Advance();
            segments.Add(ParseSegment(isFirst: false));
        }

        var end = _tokens[_index - 1].End;
        var lookupStart = 0;
        if (isCondition && _collection == QueryCollection.Jobs)
        {
            if (segments.Count < 3
                || !string.Equals(segments[0], "devices", StringComparison.OrdinalIgnoreCase)
                || !string.Equals(segments[1], "jobs", StringComparison.OrdinalIgnoreCase))
            {
                throw Error(first.Start, end - first.Start, "conditions on devices.jobs must use paths that start with devices.jobs. (for example devices.jobs.deviceId)");
            }

            lookupStart = 2;
        }

        return new PropertyPath(segments, first.Start, end - first.Start, lookupStart);
    }

    private string ParseSegment(bool isFirst)
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.QuotedName:
                Advance();
                return token.Text!;
            case TokenKind.Identifier when !Keywords.IsReserved(token.Text!):
                Advance();
                return token.Text!;
            case TokenKind.Identifier when !isFirst || Peek(1).Kind == TokenKind.Dot:
                throw Error(token, $"'{token.Text}' is a reserved word; write [[{token.Text}]] to use it as a property name");
            default:
                throw Error(token, isFirst ? "expected a property path" : "expected a property name after '.'");
        }
    }

    private void Enter(Token token)
    {
        if (++_nesting > IoTHubQuery.MaxNestingDepth)
        {
            throw Error(token, string.Create(CultureInfo.InvariantCulture, $"the expression is nested too deeply (more than {IoTHubQuery.MaxNestingDepth} levels)"));
        }
    }

    private void Leave() => _nesting--;

    private T Check<T>(T expression)
        where T : QueryExpression
    {
        if (expression.Depth > IoTHubQuery.MaxNestingDepth)
        {
            throw Error(expression.Position, expression.Length, string.Create(CultureInfo.InvariantCulture, $"the expression is nested too deeply (more than {IoTHubQuery.MaxNestingDepth} levels)"));
        }

        return expression;
    }

    private QueryExpression ParseExpression() => ParseLogical(LogicalOperator.Or);

    private QueryExpression ParseLogical(LogicalOperator op)
    {
        var keyword = op == LogicalOperator.Or ? "OR" : "AND";
        QueryExpression ParseOperand() => op == LogicalOperator.Or ? ParseLogical(LogicalOperator.And) : ParseNot();

        var first = ParseOperand();
        if (!Current.IsKeyword(keyword))
        {
            return first;
        }

        var operands = new List<QueryExpression> { first };
        while (TryConsumeKeyword(keyword))
        {
            operands.Add(ParseOperand());
        }

        return Check(new LogicalExpression(op, [.. operands]));
    }

    private QueryExpression ParseNot()
    {
        if (!Current.IsKeyword("NOT"))
        {
            return ParseComparison();
        }

        var token = Advance();
        Enter(token);
        var operand = ParseNot();
        Leave();
        return Check(new NotExpression(operand, token.Start));
    }

    private QueryExpression ParseComparison()
    {
        var left = ParseAdditive();
        BinaryOperator? op = Current.Kind switch
        {
            TokenKind.Equal => BinaryOperator.Equal,
            TokenKind.NotEqual => BinaryOperator.NotEqual,
            TokenKind.Less => BinaryOperator.LessThan,
            TokenKind.LessOrEqual => BinaryOperator.LessThanOrEqual,
            TokenKind.Greater => BinaryOperator.GreaterThan,
            TokenKind.GreaterOrEqual => BinaryOperator.GreaterThanOrEqual,
            _ => null,
        };
        if (op is { } comparison)
        {
            Advance();
            return Check(new BinaryExpression(comparison, left, ParseAdditive()));
        }

        if (Current.IsKeyword("NOT") && Peek(1).IsKeyword("IN"))
        {
            throw Error(Current.Start, Peek(1).End - Current.Start, "IoT Hub queries write NOT IN as NIN");
        }

        var negated = Current.IsKeyword("NIN");
        if (negated || Current.IsKeyword("IN"))
        {
            Advance();
            if (Current.Kind != TokenKind.LeftBracket)
            {
                throw Error(Current, $"{(negated ? "NIN" : "IN")} needs an array in square brackets, such as ['a', 'b']");
            }

            var (values, end) = ParseArray();
            return Check(new InExpression(left, values, negated, end));
        }

        return left;
    }

    private QueryExpression ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Current.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var op = Advance().Kind == TokenKind.Plus ? BinaryOperator.Add : BinaryOperator.Subtract;
            left = Check(new BinaryExpression(op, left, ParseMultiplicative()));
        }

        return left;
    }

    private QueryExpression ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Current.Kind is TokenKind.Star or TokenKind.Slash or TokenKind.Percent)
        {
            var op = Advance().Kind switch
            {
                TokenKind.Star => BinaryOperator.Multiply,
                TokenKind.Slash => BinaryOperator.Divide,
                _ => BinaryOperator.Modulo,
            };
            left = Check(new BinaryExpression(op, left, ParseUnary()));
        }

        return left;
    }

    private QueryExpression ParseUnary()
    {
        if (Current.Kind is not (TokenKind.Minus or TokenKind.Plus))
        {
            return ParsePrimary();
        }

        var sign = Advance();
        Enter(sign);
        var operand = ParseUnary();
        Leave();
        var negate = sign.Kind == TokenKind.Minus;
        if (operand is ConstantExpression { Kind: ConstantKind.Number, Value: double number })
        {
            return new ConstantExpression(ConstantKind.Number, negate ? -number : number, sign.Start, operand.Position + operand.Length - sign.Start);
        }

        return Check(new NegateExpression(operand, negate, sign.Start));
    }

    private QueryExpression ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.String:
                Advance();
                return new ConstantExpression(ConstantKind.String, token.Text, token.Start, token.Length);
            case TokenKind.Number:
                Advance();
                return new ConstantExpression(ConstantKind.Number, token.Number, token.Start, token.Length);
            case TokenKind.LeftBracket:
                var (values, end) = ParseArray();
                return new ConstantExpression(ConstantKind.Array, values, token.Start, end - token.Start);
            case TokenKind.LeftParen:
                Advance();
                Enter(token);
                var inner = ParseExpression();
                Expect(TokenKind.RightParen, "expected ')'");
                Leave();
                return inner;
            case TokenKind.QuotedName:
                return new PathExpression(ParsePath(isCondition: true));
            case TokenKind.Identifier:
                if (Peek(1).Kind == TokenKind.LeftParen)
                {
                    return ParseFunctionCall();
                }

                if (TryKeywordConstant(token) is { } constant)
                {
                    Advance();
                    return constant;
                }

                if (Keywords.IsReserved(token.Text!) && Peek(1).Kind != TokenKind.Dot)
                {
                    throw Error(token, LooksLikeOperand(Peek(1))
                        ? $"'{token.Text}' is a reserved word; write [[{token.Text}]] to use it as a property name"
                        : "expected an expression");
                }

                return new PathExpression(ParsePath(isCondition: true));
            default:
                throw Error(token, "expected an expression");
        }
    }

    /// <summary>True when the token after a misplaced reserved word suggests the word was meant as a property name.</summary>
    private static bool LooksLikeOperand(Token next) =>
        next.Kind is TokenKind.Equal or TokenKind.NotEqual or TokenKind.Less or TokenKind.LessOrEqual
            or TokenKind.Greater or TokenKind.GreaterOrEqual
        || next.IsKeyword("IN") || next.IsKeyword("NIN");

    private static ConstantExpression? TryKeywordConstant(Token token)
    {
        if (token.Kind != TokenKind.Identifier)
        {
            return null;
        }

        return token.Text!.ToUpperInvariant() switch
        {
            "TRUE" => new ConstantExpression(ConstantKind.Boolean, true, token.Start, token.Length),
            "FALSE" => new ConstantExpression(ConstantKind.Boolean, false, token.Start, token.Length),
            "NULL" => new ConstantExpression(ConstantKind.Null, null, token.Start, token.Length),
            "UNDEFINED" => new ConstantExpression(ConstantKind.Undefined, null, token.Start, token.Length),
            _ => null,
        };
    }

    private QuerySyntaxException UnknownFunction(Token name) =>
        QueryFunctions.IsRoutingOnly(name.Text!)
            ? Error(name, $"function {name.Text} is not supported in twin queries (it belongs to the message-routing query language); supported functions are {QueryFunctions.SupportedList}")
            : Error(name, $"unknown function '{name.Text}'; supported functions are {QueryFunctions.SupportedList}");

    private FunctionCallExpression ParseFunctionCall()
    {
        var name = Current;
        var function = QueryFunctions.Scalar(name.Text!);
        if (function is null)
        {
            var aggregate = QueryFunctions.Aggregate(name.Text!);
            if (aggregate != AggregateFunction.None)
            {
                throw Error(name, $"aggregate {aggregate.ToString().ToUpperInvariant()}() is allowed only in the SELECT list");
            }

            throw UnknownFunction(name);
        }

        Advance();
        var open = Advance();
        Enter(open);
        var arguments = new List<QueryExpression>();
        if (Current.Kind != TokenKind.RightParen)
        {
            do
            {
                arguments.Add(ParseExpression());
            }
            while (TryConsume(TokenKind.Comma));
        }

        var close = Expect(TokenKind.RightParen, "expected ',' or ')'");
        Leave();
        var expected = function == QueryFunctions.IsDefined ? 1 : 2;
        if (arguments.Count != expected)
        {
            throw Error(name.Start, close.End - name.Start, string.Create(CultureInfo.InvariantCulture,
                $"{function} takes {expected} argument{(expected == 1 ? string.Empty : "s")}, not {arguments.Count}"));
        }

        return Check(new FunctionCallExpression(function, [.. arguments], name.Start, close.End));
    }

    private (IReadOnlyList<ConstantExpression> Values, int End) ParseArray()
    {
        var open = Expect(TokenKind.LeftBracket, "expected an array such as ['a', 'b']");
        Enter(open);
        var values = new List<ConstantExpression>();
        if (Current.Kind != TokenKind.RightBracket)
        {
            do
            {
                values.Add(ParseConstant());
            }
            while (TryConsume(TokenKind.Comma));
        }

        var close = Expect(TokenKind.RightBracket, "expected ',' or ']'");
        Leave();
        return (values, close.End);
    }

    private ConstantExpression ParseConstant()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.String:
            case TokenKind.Number:
            case TokenKind.Minus or TokenKind.Plus when Peek(1).Kind == TokenKind.Number:
                return (ConstantExpression)ParseUnary();
            case TokenKind.LeftBracket:
                var (values, end) = ParseArray();
                return new ConstantExpression(ConstantKind.Array, values, token.Start, end - token.Start);
        }

        if (TryKeywordConstant(token) is { } constant)
        {
            Advance();
            return constant;
        }

        throw Error(token, "an array may contain only constants (strings, numbers, true, false, null)");
    }

    private void Validate(bool selectAll, List<SelectItem> items, List<PropertyPath> groupBy)
    {
        if (_collection == QueryCollection.Jobs && !selectAll)
        {
            throw Error(items[0].Position, 1, "queries on devices.jobs support only SELECT *");
        }

        var aggregates = items.Exists(i => i.Aggregate != AggregateFunction.None);
        if (aggregates || groupBy.Count > 0)
        {
            foreach (var item in items.Where(i => i.Aggregate == AggregateFunction.None && !groupBy.Contains(i.Path!)))
            {
                throw Error(item.Path!.Position, item.Path.Length, aggregates
                    ? $"'{item.Path}' must be in GROUP BY to be selected beside an aggregate"
                    : $"'{item.Path}' must be in GROUP BY to be selected in a GROUP BY query");
            }
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items.Where(item => !names.Add(item.OutputName)))
        {
            throw Error(item.Position, 1, $"two SELECT items are both named '{item.OutputName}'; give one of them a different name with AS");
        }
    }
}
