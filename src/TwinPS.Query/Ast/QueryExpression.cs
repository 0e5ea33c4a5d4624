using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace TwinPS.Query;

/// <summary>A node of a WHERE expression. Instances are immutable and created only by the parser.</summary>
public abstract class QueryExpression
{
    private protected QueryExpression(int position, int length, int depth)
    {
        Position = position;
        Length = length;
        Depth = depth;
    }

    /// <summary>0-based offset of the expression in the query text.</summary>
    public int Position { get; }

    /// <summary>Length of the expression in the query text.</summary>
    public int Length { get; }

    /// <summary>Height of this expression tree (a leaf is 1); the parser bounds it.</summary>
    public int Depth { get; }

    internal abstract QueryValue Evaluate(JsonObject document);
}

/// <summary>The kind of a constant.</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members name the query language's constant types.")]
public enum ConstantKind
{
    /// <summary><c>undefined</c>.</summary>
    Undefined,

    /// <summary><c>null</c>.</summary>
    Null,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>A decimal or 0x hexadecimal number.</summary>
    Number,

    /// <summary>A single- or double-quoted string.</summary>
    String,

    /// <summary>An array constant <c>[c1, c2, …]</c>.</summary>
    Array,
}

/// <summary>A constant: <c>'text'</c>, <c>42</c>, <c>0x14</c>, <c>true</c>, <c>null</c>, <c>undefined</c> or an array of constants.</summary>
public sealed class ConstantExpression : QueryExpression
{
    private readonly QueryValue _value;

    internal ConstantExpression(ConstantKind kind, object? value, int position, int length)
        : base(position, length, 1)
    {
        Kind = kind;
        Value = value;
        _value = kind switch
        {
            ConstantKind.Null => QueryValue.Null,
            ConstantKind.Boolean => QueryValue.FromBoolean((bool)value!),
            ConstantKind.Number => QueryValue.FromNumber((double)value!),
            ConstantKind.String => QueryValue.FromString((string)value!),
            ConstantKind.Array => QueryValue.FromArrayConstant(),
            _ => QueryValue.Undefined,
        };
    }

    /// <summary>The kind of constant.</summary>
    public ConstantKind Kind { get; }

    /// <summary>
    /// The value: a <see cref="string"/>, a <see cref="double"/>, a <see cref="bool"/>,
    /// an <see cref="IReadOnlyList{T}"/> of <see cref="ConstantExpression"/> for arrays, or null for null and undefined.
    /// </summary>
    public object? Value { get; }

    internal QueryValue QueryValue => _value;

    internal override QueryValue Evaluate(JsonObject document) => _value;
}

/// <summary>A property path read from the document (undefined when missing).</summary>
public sealed class PathExpression : QueryExpression
{
    private readonly string[] _lookup;

    internal PathExpression(PropertyPath path)
        : base(path.Position, path.Length, 1)
    {
        Path = path;
        _lookup = path.LookupSegments;
    }

    /// <summary>The path.</summary>
    public PropertyPath Path { get; }

    internal override QueryValue Evaluate(JsonObject document) => JsonLookup.Evaluate(document, _lookup);
}
