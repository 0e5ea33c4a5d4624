using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;
using TwinPS.Query;

namespace TwinPS.Commands;

/// <summary>
/// Runs an IoT Hub query (or one built from -Tag/-Desired/-Reported) and streams every page:
/// twins for <c>SELECT *</c>, PSCustomObjects for projections and aggregates.
/// </summary>
[Cmdlet(VerbsCommon.Search, "IoTTwin", DefaultParameterSetName = FilterSet, SupportsPaging = true)]
[OutputType(typeof(Twin), typeof(PSObject))]
public sealed class SearchIoTTwinCommand : TwinCommandBase
{
    private const string QuerySet = "Query";
    private const string FilterSet = "Filter";
    private const string DevicesCollection = "devices";
    private const string ModulesCollection = "devices.modules";
    private const int OutputChunk = 20;

    /// <summary>The query text, e.g. <c>SELECT * FROM devices WHERE tags.location.plant = 'Redmond43'</c>.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = QuerySet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QueryCompleter))]
    public string Query { get; set; } = string.Empty;

    /// <summary>Tags to match (equality; dotted keys or nested hashtables for paths; an array means IN; $null means absent).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateNotNull]
    public IDictionary? Tag { get; set; }

    /// <summary>Desired properties to match (as for -Tag).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateNotNull]
    public IDictionary? Desired { get; set; }

    /// <summary>Reported properties to match (as for -Tag).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateNotNull]
    public IDictionary? Reported { get; set; }

    /// <summary>Search module twins (devices.modules) instead of device twins.</summary>
    [Parameter(ParameterSetName = FilterSet)]
    public SwitchParameter Module { get; set; }

    /// <summary>The collection to search: <c>devices</c> (default) or <c>devices.modules</c>.</summary>
    [Parameter(ParameterSetName = FilterSet)]
    [ValidateSet(DevicesCollection, ModulesCollection, IgnoreCase = true)]
    public string? Collection { get; set; }

    /// <summary>Items per page requested from the hub (1–100).</summary>
    [Parameter]
    [ValidateRange(1, QueryOptions.MaxPageSize)]
    public int? PageSize { get; set; }

    /// <inheritdoc/>
    internal override ThrottleClass ReportedThrottleClass => ThrottleClass.Query;

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        string query = ParameterSetName == QuerySet ? Query : BuildQuery();
        WriteVerboseSafe("Query: " + query);
        foreach (string warning in UnquotedValueCheck.Warnings(query))
        {
            WriteWarningSafe(warning);
        }

        ulong skip = PagingParameters.Skip;
        ulong first = PagingParameters.First;
        if (PagingParameters.IncludeTotalCount)
        {
            await WriteTotalCountFirstAsync(query, cancellationToken).ConfigureAwait(false);
        }

        var options = new QueryOptions { PageSize = PageSize ?? SmallPageFor(skip, first) };
        ulong seen = 0;
        ulong written = 0;
        int pages = 0;
        if (Reporter is not null)
        {
            Reporter.Noun = "results";
            Reporter.Detail = () => string.Create(CultureInfo.InvariantCulture, $"{Volatile.Read(ref pages)} pages");
        }

        bool complete = true;
        try
        {
            await foreach (QueryPage page in Client.QueryAsync(query, options, cancellationToken).ConfigureAwait(false))
            {
                pages++;
                // The page's results go to the pipeline thread in a few batches (a hand-off per batch, not per result).
                var batch = new List<object?>(Math.Min(page.Count, OutputChunk));
                for (int index = 0; index < page.Count && complete; index++)
                {
                    seen++;
                    if (seen <= skip)
                    {
                        continue;
                    }

                    if (written == first)
                    {
                        // -First reached with results left over.
                        complete = false;
                        break;
                    }

                    batch.Add(ToOutput(page, index));
                    Reporter?.ItemDone();
                    written++;
                    if (batch.Count == OutputChunk)
                    {
                        // The pipeline thread writes this part while the rest of the page is turned into objects.
                        WriteObjectsSafe(batch);
                        batch = new List<object?>(OutputChunk);
                    }
                }

                WriteObjectsSafe(batch);

                if (!complete || (written == first && page.ContinuationToken is not null))
                {
                    complete = false;
                    break;
                }

                if (page.ContinuationToken is not null)
                {
                    Reporter?.Report();
                }

                // Hold one page at a time: the next page is requested only after this one has been
                // written, so a stopped pipeline (Select-Object -First) requests nothing more.
                await FlushPipelineCallsAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IoTHubServiceException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TerminatingErrorException(ErrorRecords.FromException(ex, deviceId: null, moduleId: null).WithTarget(query));
        }
        catch (ArgumentException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("InvalidQuery", ex.Message, query));
        }

        if (PagingParameters.IncludeTotalCount && _totalCountPending)
        {
            // No COUNT() form of this query: the count is what was enumerated (exact only if complete).
            WriteObjectSafe(PagingParameters.NewTotalCount(seen, complete ? 1.0 : 0.0));
        }
    }

    private bool _totalCountPending;

    // Writes the total count first (the paging convention) by running the COUNT() form of a plain
    // SELECT * query; for other queries the count is written at the end.
    private async Task WriteTotalCountFirstAsync(string query, CancellationToken cancellationToken)
    {
        string? countQuery = CountQueryFor(query);
        if (countQuery is null)
        {
            _totalCountPending = true;
            return;
        }

        try
        {
            await foreach (QueryPage page in Client.QueryAsync(countQuery, null, cancellationToken).ConfigureAwait(false))
            {
                if (page.Items.Count > 0 && page.Items[0] is JsonObject row && row["total"] is JsonValue value && value.TryGetValue(out long total))
                {
                    WriteObjectSafe(PagingParameters.NewTotalCount((ulong)Math.Max(0, total), 1.0));
                    return;
                }

                break;
            }
        }
        catch (IoTHubServiceException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TerminatingErrorException(ErrorRecords.FromException(ex, deviceId: null, moduleId: null).WithTarget(countQuery));
        }

        _totalCountPending = true;
    }

    private static string? CountQueryFor(string query) =>
        IoTHubQuery.TryParse(query, out ParsedQuery? parsed) ? parsed.ToCountQuery("total") : null;

    private static int? SmallPageFor(ulong skip, ulong first) =>
        first == ulong.MaxValue || skip + first >= QueryOptions.MaxPageSize ? null : (int)Math.Max(1, skip + first);

    private static object? ToOutput(QueryPage page, int index) =>
        page.TwinAt(index) is { } twin ? new Twin(twin).ToPSObject() : PSObjectJson.ToPowerShell(page.ItemAt(index));

    private string BuildQuery()
    {
        var conditions = new List<(string Path, object? Value)>();
        try
        {
            AddConditions(conditions, "tags", Tag);
            AddConditions(conditions, "properties.desired", Desired);
            AddConditions(conditions, "properties.reported", Reported);
            QueryCollection collection = Module.IsPresent || string.Equals(Collection, ModulesCollection, StringComparison.OrdinalIgnoreCase)
                ? QueryCollection.Modules
                : QueryCollection.Devices;
            return QueryBuilder.SelectAll(collection, QueryBuilder.BuildWhere(conditions));
        }
        catch (ArgumentException ex)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("InvalidQueryFilter", ex.Message, null));
        }
    }

    // Flattens nested dictionaries into dotted paths; values are unwrapped to plain .NET values
    // so the builder writes them as literals.
    internal static void AddConditions(List<(string Path, object? Value)> conditions, string prefix, IDictionary? filter)
    {
        if (filter is null)
        {
            return;
        }

        foreach (DictionaryEntry entry in filter)
        {
            string key = Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? string.Empty;
            if (key.Length == 0)
            {
                throw new ArgumentException($"An empty key cannot be used in a filter on '{prefix}'.");
            }

            string path = prefix + "." + key;
            object? value = Unwrap(entry.Value);
            if (value is IDictionary nested)
            {
                AddConditions(conditions, path, nested);
            }
            else
            {
                conditions.Add((path, value is IEnumerable sequence and not string ? sequence.Cast<object?>().Select(Unwrap).ToArray() : value));
            }
        }
    }

    private static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;
}
