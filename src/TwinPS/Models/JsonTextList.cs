using System.Collections.ObjectModel;
using System.Text.Json.Nodes;

namespace TwinPS.Models;

/// <summary>
/// A read-only list of strings whose text form is its JSON array (<c>["a","b"]</c>), so that <c>Export-Csv</c> writes
/// the values rather than <c>System.String[]</c>; PowerShell still enumerates and indexes it like an array.
/// </summary>
public sealed class JsonTextList : ReadOnlyCollection<string>
{
    internal JsonTextList(IList<string> items)
        : base(items)
    {
    }

    /// <summary>The list as compact JSON.</summary>
    public override string ToString() => new JsonArray(Items.Select(item => (JsonNode?)JsonValue.Create(item)).ToArray()).ToJsonString();
}
