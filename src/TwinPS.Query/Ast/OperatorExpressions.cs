using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Query;

/// <summary>Binary operators: comparisons and arithmetic.</summary>
public enum BinaryOperator
{
    /// <summary><c>=</c></summary>
    Equal,

    /// <summary><c>!=</c> or <c>&lt;&gt;</c></summary>
    NotEqual,

    /// <summary><c>&lt;</c></summary>
    LessThan,

    /// <summary><c>&lt;=</c></summary>
    LessThanOrEqual,

    /// <summary><c>&gt;</c></summary>
    GreaterThan,

    /// <summary><c>&gt;=</c></summary>
    GreaterThanOrEqual,

    /// <summary><c>+</c></summary>
    Add,

    /// <summary><c>-</c></summary>
    Subtract,

    /// <summary><c>*</c></summary>
    Multiply,

    /// <summary><c>/</c></summary>
    Divide,

    /// <summary><c>%</c></summary>
    Modulo,
}

/// <summary>
/// A comparison or arithmetic operation. Comparisons are true or false only between two primitives of the same
/// type (numbers, strings; booleans and null for = and !=); otherwise they are undefined, i.e. not true.
/// Arithmetic works on numbers only.
/// </summary>
public sealed class BinaryExpression : QueryExpression
{
    // path = 'text' / path != 'text' (what builders emit) compares a parsed document's string without copying it.
    private readonly string[]? _stringEqualityPath;
    private readonly string? _stringEqualityText;

    internal BinaryExpression(BinaryOperator op, QueryExpression left, QueryExpression right)
        : base(left.Position, right.Position + right.Length - left.Position, 1 + Math.Max(left.Depth, right.Depth))
    {
        Operator = op;
        Left = left;
        Right = right;
        if (op is BinaryOperator.Equal or BinaryOperator.NotEqual
            && left is PathExpression path
            && right is ConstantExpression { Kind: ConstantKind.String, Value: string text })
        {
            _stringEqualityPath = path.Path.LookupSegments;
            _stringEqualityText = text;
        }
    }

    /// <summary>The operator.</summary>
    public BinaryOperator Operator { get; }

    /// <summary>Left operand.</summary>
    public QueryExpression Left { get; }

    /// <summary>Right operand.</summary>
    public QueryExpression Right { get; }

    /// <summary>True for = != &lt; &lt;= &gt; &gt;=.</summary>
    public bool IsComparison => Operator <= BinaryOperator.GreaterThanOrEqual;

    internal override QueryValue Evaluate(JsonObject document)
    {
        if (_stringEqualityPath is not null)
        {
            return EvaluateStringEquality(document);
        }

        var left = Left.Evaluate(document);
        if (left.Kind == ValueKind.Undefined)
        {
            return QueryValue.Undefined;
        }

        var right = Right.Evaluate(document);
        return IsComparison ? Compare(Operator, left, right) : Arithmetic(Operator, left, right);
    }

    private QueryValue EvaluateStringEquality(JsonObject document)
    {
        if (!JsonLookup.TryResolve(document, _stringEqualityPath!, out _, out var node))
        {
            return QueryValue.Undefined;
        }

        if (node is JsonValue value && value.TryGetValue<JsonElement>(out var element) && element.ValueKind == JsonValueKind.String)
        {
            return QueryValue.FromBoolean(element.ValueEquals(_stringEqualityText) == (Operator == BinaryOperator.Equal));
        }

        return Compare(Operator, QueryValue.FromNode(node), QueryValue.FromString(_stringEqualityText!));
    }

    internal static QueryValue Compare(BinaryOperator op, in QueryValue left, in QueryValue right)
    {
        if (left.Kind != right.Kind || !left.IsPrimitive)
        {
            return QueryValue.Undefined;
        }

        int order;
        switch (left.Kind)
        {
            case ValueKind.Number:
                order = left.Number.CompareTo(right.Number);
                break;
            case ValueKind.String:
                order = string.CompareOrdinal(left.Text, right.Text);
                break;
            default:
                // null and booleans support only equality.
                return op switch
                {
                    BinaryOperator.Equal => QueryValue.FromBoolean(left.SameAs(right)),
                    BinaryOperator.NotEqual => QueryValue.FromBoolean(!left.SameAs(right)),
                    _ => QueryValue.Undefined,
                };
        }

        return QueryValue.FromBoolean(op switch
        {
            BinaryOperator.Equal => order == 0,
            BinaryOperator.NotEqual => order != 0,
            BinaryOperator.LessThan => order < 0,
            BinaryOperator.LessThanOrEqual => order <= 0,
            BinaryOperator.GreaterThan => order > 0,
            _ => order >= 0,
        });
    }

    private static QueryValue Arithmetic(BinaryOperator op, in QueryValue left, in QueryValue right)
    {
        if (left.Kind != ValueKind.Number || right.Kind != ValueKind.Number)
        {
            return QueryValue.Undefined;
        }

        double a = left.Number, b = right.Number;
        return op switch
        {
            BinaryOperator.Add => QueryValue.FromNumber(a + b),
            BinaryOperator.Subtract => QueryValue.FromNumber(a - b),
            BinaryOperator.Multiply => QueryValue.FromNumber(a * b),
            BinaryOperator.Divide => b == 0 ? QueryValue.Undefined : QueryValue.FromNumber(a / b),
            _ => b == 0 ? QueryValue.Undefined : QueryValue.FromNumber(a % b),
        };
    }
}

/// <summary>AND / OR.</summary>
public enum LogicalOperator
{
    /// <summary><c>AND</c></summary>
    And,

    /// <summary><c>OR</c></summary>
    Or,
}

/// <summary>
/// A chain of operands joined by the same AND or OR, with three-valued logic: AND is false if any operand is
/// false, true if all are true, else undefined; OR is true if any operand is true, false if all are false, else undefined.
/// </summary>
public sealed class LogicalExpression : QueryExpression
{
    private readonly QueryExpression[] _operands;

    internal LogicalExpression(LogicalOperator op, QueryExpression[] operands)
        : base(operands[0].Position, operands[^1].Position + operands[^1].Length - operands[0].Position, 1 + operands.Max(o => o.Depth))
    {
        Operator = op;
        _operands = operands;
    }

    /// <summary>The operator.</summary>
    public LogicalOperator Operator { get; }

    /// <summary>Two or more operands.</summary>
    public IReadOnlyList<QueryExpression> Operands => _operands;

    internal override QueryValue Evaluate(JsonObject document)
    {
        var decisive = Operator == LogicalOperator.Or;
        var allBoolean = true;
        foreach (var operand in _operands)
        {
            var value = operand.Evaluate(document);
            if (value.Kind != ValueKind.Boolean)
            {
                allBoolean = false;
            }
            else if (value.IsTrue == decisive)
            {
                return QueryValue.FromBoolean(decisive);
            }
        }

        return allBoolean ? QueryValue.FromBoolean(!decisive) : QueryValue.Undefined;
    }
}

/// <summary><c>NOT expr</c>: negates a Boolean; undefined for anything else.</summary>
public sealed class NotExpression : QueryExpression
{
    internal NotExpression(QueryExpression operand, int position)
        : base(position, operand.Position + operand.Length - position, 1 + operand.Depth)
    {
        Operand = operand;
    }

    /// <summary>The negated expression.</summary>
    public QueryExpression Operand { get; }

    internal override QueryValue Evaluate(JsonObject document)
    {
        var value = Operand.Evaluate(document);
        return value.Kind == ValueKind.Boolean ? QueryValue.FromBoolean(!value.IsTrue) : QueryValue.Undefined;
    }
}

/// <summary>Unary <c>-expr</c> or <c>+expr</c> on a number; undefined for anything else.</summary>
public sealed class NegateExpression : QueryExpression
{
    internal NegateExpression(QueryExpression operand, bool negate, int position)
        : base(position, operand.Position + operand.Length - position, 1 + operand.Depth)
    {
        Operand = operand;
        IsNegation = negate;
    }

    /// <summary>The operand.</summary>
    public QueryExpression Operand { get; }

    /// <summary>True for unary minus, false for unary plus.</summary>
    public bool IsNegation { get; }

    internal override QueryValue Evaluate(JsonObject document)
    {
        var value = Operand.Evaluate(document);
        if (value.Kind != ValueKind.Number)
        {
            return QueryValue.Undefined;
        }

        return IsNegation ? QueryValue.FromNumber(-value.Number) : value;
    }
}

/// <summary>
/// <c>expr IN [constants]</c> or <c>expr NIN [constants]</c>. For a primitive value IN is true when it equals
/// (same type, same value) one of the constants, else false, and NIN is the opposite; for undefined, objects and
/// arrays both are undefined (not true).
/// </summary>
public sealed class InExpression : QueryExpression
{
    private readonly QueryValue[] _values;

    internal InExpression(QueryExpression operand, IReadOnlyList<ConstantExpression> values, bool negated, int end)
        : base(operand.Position, end - operand.Position, 1 + operand.Depth)
    {
        Operand = operand;
        Values = values;
        IsNotIn = negated;
        _values = values.Select(v => v.QueryValue).ToArray();
    }

    /// <summary>The tested expression.</summary>
    public QueryExpression Operand { get; }

    /// <summary>The array's constants.</summary>
    public IReadOnlyList<ConstantExpression> Values { get; }

    /// <summary>True for NIN.</summary>
    public bool IsNotIn { get; }

    internal override QueryValue Evaluate(JsonObject document)
    {
        var value = Operand.Evaluate(document);
        if (!value.IsPrimitive)
        {
            return QueryValue.Undefined;
        }

        var found = false;
        foreach (var candidate in _values)
        {
            if (value.SameAs(candidate))
            {
                found = true;
                break;
            }
        }

        return QueryValue.FromBoolean(found != IsNotIn);
    }
}

/// <summary>A call of IS_DEFINED, STARTSWITH or ENDSWITH (names are case-insensitive).</summary>
public sealed class FunctionCallExpression : QueryExpression
{
    private readonly QueryExpression[] _arguments;

    internal FunctionCallExpression(string name, QueryExpression[] arguments, int position, int end)
        : base(position, end - position, 1 + (arguments.Length == 0 ? 0 : arguments.Max(a => a.Depth)))
    {
        Name = name;
        _arguments = arguments;
    }

    /// <summary>The function name in upper case: IS_DEFINED, STARTSWITH or ENDSWITH.</summary>
    public string Name { get; }

    /// <summary>The arguments.</summary>
    public IReadOnlyList<QueryExpression> Arguments => _arguments;

    internal override QueryValue Evaluate(JsonObject document)
    {
        if (Name == QueryFunctions.IsDefined)
        {
            return QueryValue.FromBoolean(_arguments[0].Evaluate(document).Kind != ValueKind.Undefined);
        }

        var text = _arguments[0].Evaluate(document);
        if (text.Kind != ValueKind.String)
        {
            return QueryValue.Undefined;
        }

        var affix = _arguments[1].Evaluate(document);
        if (affix.Kind != ValueKind.String)
        {
            return QueryValue.Undefined;
        }

        return QueryValue.FromBoolean(Name == QueryFunctions.StartsWith
            ? text.Text!.StartsWith(affix.Text!, StringComparison.Ordinal)
            : text.Text!.EndsWith(affix.Text!, StringComparison.Ordinal));
    }
}
