using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Query;

namespace TwinPS.Completion;

/// <summary>
/// The reusable base of the completers that ask the connected hub for values (device ids, module ids, job ids): one
/// bounded request (at most <see cref="MaxResults"/> values) built from the prefix typed so far, on the command's
/// <c>-Connection</c> or the session's; answers cached per connection for <see cref="CacheLifetime"/>; a short
/// <see cref="Timeout"/>; and silence on any failure (no connection, refused, slow, throttled): completion never
/// prints an error or blocks the prompt for long.
/// </summary>
public abstract class HubValueCompleter : IArgumentCompleter
{
    /// <summary>The most values one completion offers (and asks the hub for).</summary>
    public const int MaxResults = 50;

    /// <summary>How long an answer is reused for the same connection and request.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(15);

    /// <summary>How long a completion waits for the hub.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private static readonly ConditionalWeakTable<IoTHubConnection, ConcurrentDictionary<string, CachedAnswer>> Caches = new();

    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            string prefix = Unquote(wordToComplete ?? string.Empty, out char? quote);
            IoTHubConnection? connection = ConnectionResolver.ForCompletion(fakeBoundParameters?["Connection"]);
            if (connection is null)
            {
                return [];
            }

            string? request = BuildRequest(prefix, fakeBoundParameters ?? new Hashtable());
            if (request is null)
            {
                return [];
            }

            return Lookup(connection, request)
                .Where(value => value.StartsWith(prefix, StringComparison.Ordinal))
                .Take(MaxResults)
                .Select(value => new CompletionResult(Quote(value, quote), value, CompletionResultType.ParameterValue, value))
                .ToArray();
        }
#pragma warning disable CA1031 // A completer must never fail the prompt: any error means "no suggestions".
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
    }

    /// <summary>
    /// The request that lists the values starting with <paramref name="prefix"/>, as text: it is both what
    /// <see cref="FetchAsync"/> is given and the cache key. Null when nothing should be asked.
    /// </summary>
    protected abstract string? BuildRequest(string prefix, IDictionary fakeBoundParameters);

    /// <summary>Asks the hub: the values for <paramref name="request"/> (at most <see cref="MaxResults"/> are offered).</summary>
    protected abstract Task<IEnumerable<string>> FetchAsync(IoTHubServiceClient client, string request, CancellationToken cancellationToken);

    /// <summary>A string parameter already typed on the command line (first element of an array), or null.</summary>
    protected static string? BoundString(IDictionary fakeBoundParameters, string name)
    {
        ArgumentNullException.ThrowIfNull(fakeBoundParameters);
        object? value = fakeBoundParameters[name] is PSObject wrapped ? wrapped.BaseObject : fakeBoundParameters[name];
        if (value is IEnumerable sequence and not string)
        {
            value = sequence.Cast<object?>().FirstOrDefault();
            value = value is PSObject inner ? inner.BaseObject : value;
        }

        return value as string;
    }

    private string[] Lookup(IoTHubConnection connection, string request)
    {
        ConcurrentDictionary<string, CachedAnswer> cache = Caches.GetValue(connection, _ => new ConcurrentDictionary<string, CachedAnswer>(StringComparer.Ordinal));
        string key = GetType().Name + "\n" + request;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (cache.TryGetValue(key, out CachedAnswer? cached) && now - cached.At < CacheLifetime)
        {
            return cached.Values;
        }

        using var timeout = new CancellationTokenSource(Timeout);
        IEnumerable<string> fetched = Task.Run(() => FetchAsync(connection.ServiceClient, request, timeout.Token))
            .WaitAsync(Timeout)
            .GetAwaiter()
            .GetResult();
        string[] values = fetched.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        foreach (KeyValuePair<string, CachedAnswer> stale in cache.Where(pair => now - pair.Value.At >= CacheLifetime).ToArray())
        {
            cache.TryRemove(stale.Key, out _);
        }

        cache[key] = new CachedAnswer(now, values);
        return values;
    }

    // The word as typed may carry PowerShell quotes ('ab, "ab", 'ab'); complete inside them.
    private static string Unquote(string word, out char? quote)
    {
        quote = null;
        if (word.Length > 0 && word[0] is '\'' or '"')
        {
            quote = word[0];
            word = word.Length > 1 && word[^1] == quote ? word[1..^1] : word[1..];
        }

        return quote == '\'' ? word.Replace("''", "'", StringComparison.Ordinal) : word;
    }

    // A value as PowerShell source text: bare when it is a plain word, else single-quoted (device ids may contain
    // characters such as ' ( ) ; $ # that PowerShell would read otherwise).
    private static string Quote(string value, char? typedQuote)
    {
        bool plain = value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
        if (plain && typedQuote is null)
        {
            return value;
        }

        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private sealed record CachedAnswer(DateTimeOffset At, string[] Values);
}

/// <summary>
/// A <see cref="HubValueCompleter"/> whose request is one IoT Hub query (<c>TOP</c> <see cref="HubValueCompleter.MaxResults"/>,
/// every literal quoted with <see cref="QueryLiteral.Quote"/>), answered by its first page.
/// </summary>
public abstract class HubQueryCompleter : HubValueCompleter
{
    /// <summary>The query that lists values starting with <paramref name="prefix"/>; null when nothing should be asked.</summary>
    protected abstract string? BuildQuery(string prefix, IDictionary fakeBoundParameters);

    /// <summary>The value of one result row (e.g. its <c>deviceId</c>); null to skip the row.</summary>
    protected abstract string? ValueOf(JsonNode row);

    /// <inheritdoc/>
    protected sealed override string? BuildRequest(string prefix, IDictionary fakeBoundParameters) => BuildQuery(prefix, fakeBoundParameters);

    /// <inheritdoc/>
    protected sealed override async Task<IEnumerable<string>> FetchAsync(IoTHubServiceClient client, string request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        QueryPage page = await client.QueryPageAsync(request, new QueryOptions { PageSize = MaxResults }, cancellationToken).ConfigureAwait(false);
        return page.Items.Select(ValueOf).OfType<string>().ToArray();
    }
}

/// <summary>Completes <c>-DeviceId</c> with the ids of the connected hub's devices that start with what was typed.</summary>
public sealed class DeviceIdCompleter : HubQueryCompleter
{
    /// <inheritdoc/>
    protected override string? BuildQuery(string prefix, IDictionary fakeBoundParameters) =>
        prefix.Length == 0
            ? $"SELECT TOP {MaxResults} deviceId FROM devices"
            : $"SELECT TOP {MaxResults} deviceId FROM devices WHERE STARTSWITH(deviceId, {QueryLiteral.Quote(prefix)})";

    /// <inheritdoc/>
    protected override string? ValueOf(JsonNode row) => (string?)(row as JsonObject)?["deviceId"];
}

/// <summary>
/// Completes <c>-ModuleId</c> with the module ids of the connected hub that start with what was typed: of the device
/// given with <c>-DeviceId</c>, or of any device.
/// </summary>
public sealed class ModuleIdCompleter : HubQueryCompleter
{
    /// <inheritdoc/>
    protected override string? BuildQuery(string prefix, IDictionary fakeBoundParameters)
    {
        var conditions = new List<string>();
        if (BoundString(fakeBoundParameters, "DeviceId") is { Length: > 0 } deviceId)
        {
            conditions.Add("deviceId = " + QueryLiteral.Quote(deviceId));
        }

        if (prefix.Length > 0)
        {
            conditions.Add($"STARTSWITH(moduleId, {QueryLiteral.Quote(prefix)})");
        }

        return $"SELECT TOP {MaxResults} moduleId FROM devices.modules" + (conditions.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", conditions));
    }

    /// <inheritdoc/>
    protected override string? ValueOf(JsonNode row) => (string?)(row as JsonObject)?["moduleId"];
}

/// <summary>
/// Completes <c>-JobId</c> with the ids of the hub's jobs that start with what was typed, from the hub's job list
/// (<c>GET /jobs/v2/query</c>, the jobs of the last 30 days), so scheduled jobs that have run on no device yet are
/// offered too. At most <see cref="ScanLimit"/> jobs are read.
/// </summary>
public sealed class JobIdCompleter : HubValueCompleter
{
    /// <summary>The most jobs one completion reads from the hub's list.</summary>
    public const int ScanLimit = 500;

    /// <inheritdoc/>
    protected override string? BuildRequest(string prefix, IDictionary fakeBoundParameters) => prefix;

    /// <inheritdoc/>
    protected override async Task<IEnumerable<string>> FetchAsync(IoTHubServiceClient client, string request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var ids = new List<string>();
        var scanned = 0;
        await foreach (IoTHubJob job in client.QueryJobsAsync(pageSize: QueryOptions.MaxPageSize, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (job.JobId.StartsWith(request, StringComparison.Ordinal))
            {
                ids.Add(job.JobId);
            }

            if (++scanned >= ScanLimit || ids.Count >= MaxResults)
            {
                break;
            }
        }

        return ids;
    }
}
