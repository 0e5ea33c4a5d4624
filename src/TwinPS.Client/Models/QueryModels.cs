using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Client;

/// <summary>Options of <see cref="IoTHubServiceClient.QueryAsync"/>.</summary>
public sealed class QueryOptions
{
    /// <summary>Largest page size the client asks for.</summary>
    public const int MaxPageSize = IoTHubLimits.MaxQueryPageSize;

    private int? _pageSize;

    /// <summary>Items per page (1..100), sent as <c>x-ms-max-item-count</c>; null lets the hub choose.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 1..100.</exception>
    public int? PageSize
    {
        get => _pageSize;
        set
        {
            if (value is < 1 or > MaxPageSize)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"PageSize must be between 1 and {MaxPageSize}.");
            }

            _pageSize = value;
        }
    }

    /// <summary>A continuation token from an earlier <see cref="QueryPage.ContinuationToken"/>, to resume there.</summary>
    public string? ContinuationToken { get; set; }
}

/// <summary>One page of query results.</summary>
public sealed class QueryPage
{
    // A page read as twins: each entry an IoTHubTwin (parsed when first read) or, for an item that is not a twin, its JsonNode.
    private readonly object[]? _entries;
    private IReadOnlyList<JsonNode>? _items;

    /// <summary>Creates a page.</summary>
    public QueryPage(string itemType, IReadOnlyList<JsonNode> items, string? continuationToken)
    {
        ItemType = itemType ?? throw new ArgumentNullException(nameof(itemType));
        _items = items ?? throw new ArgumentNullException(nameof(items));
        ContinuationToken = continuationToken;
    }

    // A page of twins (item type Twin) whose entries are IoTHubTwin or JsonNode.
    internal QueryPage(object[] entries, string? continuationToken)
    {
        ItemType = "Twin";
        _entries = entries;
        ContinuationToken = continuationToken;
    }

    /// <summary>The hub's <c>x-ms-item-type</c>: <c>Twin</c>, <c>Raw</c>, <c>DeviceJob</c>, <c>JobResponse</c> (<c>Unknown</c> when absent).</summary>
    public string ItemType { get; }

    /// <summary>Whether the items are full twins (<c>SELECT *</c>).</summary>
    public bool IsTwin => string.Equals(ItemType, "Twin", StringComparison.Ordinal);

    /// <summary>How many items this page has.</summary>
    public int Count => _entries?.Length ?? _items!.Count;

    /// <summary>The items of this page only (JSON nulls in the hub's array are skipped).</summary>
    public IReadOnlyList<JsonNode> Items => _items ??= Array.ConvertAll(_entries!, entry => entry as JsonNode ?? ((IoTHubTwin)entry).Json);

    /// <summary>Token for the next page; null on the last page.</summary>
    public string? ContinuationToken { get; }

    /// <summary>The item at <paramref name="index"/> as a twin, when the page holds twins and the item is one (an object
    /// with a string <c>deviceId</c>); null otherwise. A twin read from the hub is parsed when it is first read.</summary>
    public IoTHubTwin? TwinAt(int index)
    {
        if (_entries is not null)
        {
            return _entries[index] as IoTHubTwin;
        }

        return IsTwin ? IoTHubTwin.FromItem(_items![index]) : null;
    }

    /// <summary>The item at <paramref name="index"/> (for a twin, its document).</summary>
    public JsonNode ItemAt(int index) => _entries is null ? _items![index] : _entries[index] as JsonNode ?? ((IoTHubTwin)_entries[index]).Json;
}

/// <summary>One query result item with the page's item type.</summary>
public readonly record struct QueryItem(string ItemType, JsonNode Item)
{
    /// <summary>The item as a twin when the page holds twins (<c>SELECT *</c> over devices or modules); null otherwise.</summary>
    public IoTHubTwin? AsTwin() => string.Equals(ItemType, "Twin", StringComparison.Ordinal) ? IoTHubTwin.FromItem(Item) : null;
}
