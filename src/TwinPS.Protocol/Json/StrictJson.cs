using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// Parses JSON the way a document that will be stored must be read: completely, at once. <see cref="JsonNode.Parse(ReadOnlySpan{byte}, JsonNodeOptions?, JsonDocumentOptions)"/>
/// checks only the structure and defers the rest until a value is read, so invalid UTF-8 inside a string, an escaped
/// lone surrogate (<c>"\ud800"</c>) or a repeated property name would surface later, anywhere, as an unrelated
/// exception. Here each is a <see cref="JsonException"/> before anything is returned.
/// </summary>
public static class StrictJson
{
    /// <summary>Parses UTF-8 JSON; throws <see cref="JsonException"/> for malformed text, invalid strings or a duplicate property name.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json, int maxDepth = 64)
    {
        Validate(utf8Json, maxDepth);
        return JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth });
    }

    /// <summary>Reads the whole text once: the structure, every string as UTF-16, and the property names of each object for repeats.</summary>
    public static void Validate(ReadOnlySpan<byte> utf8Json, int maxDepth = 64)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth });
        var scopes = new Stack<HashSet<string>?>();
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    scopes.Push(new HashSet<string>(StringComparer.Ordinal));
                    break;
                case JsonTokenType.StartArray:
                    scopes.Push(null);
                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    scopes.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    string name = ReadString(ref reader);
                    if (!scopes.Peek()!.Add(name))
                    {
                        throw new JsonException(string.Create(CultureInfo.InvariantCulture,
                            $"The property name '{Shorten(name)}' appears twice in one object (byte {reader.TokenStartIndex + 1})."));
                    }

                    break;
                case JsonTokenType.String:
                    ReadString(ref reader);
                    break;
            }
        }
    }

    private static string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new JsonException(string.Create(CultureInfo.InvariantCulture,
                $"A string is not valid Unicode: invalid UTF-8 or a lone surrogate escape (byte {reader.TokenStartIndex + 1})."));
        }
    }

    private static string Shorten(string value) => value.Length > 64 ? value[..64] + "…" : value;
}
