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
    /// <summary>Creates a page.</summary>
    public QueryPage(string itemType, IReadOnlyList<JsonNode> items, string? continuationToken)
    {
        ItemType = itemType ?? throw new ArgumentNullException(nameof(itemType));
        Items = items ?? throw new ArgumentNullException(nameof(items));
        ContinuationToken = continuationToken;
    }

    /// <summary>The hub's <c>x-ms-item-type</c>: <c>Twin</c>, <c>Raw</c>, <c>DeviceJob</c>, <c>JobResponse</c> (<c>Unknown</c> when absent).</summary>
    public string ItemType { get; }

    /// <summary>Whether the items are full twins (<c>SELECT *</c>).</summary>
    public bool IsTwin => string.Equals(ItemType, "Twin", StringComparison.Ordinal);

    /// <summary>The items of this page only (JSON nulls in the hub's array are skipped).</summary>
    public IReadOnlyList<JsonNode> Items { get; }

    /// <summary>Token for the next page; null on the last page.</summary>
    public string? ContinuationToken { get; }
}

/// <summary>One query result item with the page's item type.</summary>
public readonly record struct QueryItem(string ItemType, JsonNode Item)
{
    /// <summary>The item as a twin when the page holds twins (<c>SELECT *</c> over devices or modules); null otherwise.</summary>
    public IoTHubTwin? AsTwin() =>
        string.Equals(ItemType, "Twin", StringComparison.Ordinal) && Item is JsonObject obj && JsonFields.GetString(obj, "deviceId") is not null
            ? new IoTHubTwin(obj)
            : null;
}
