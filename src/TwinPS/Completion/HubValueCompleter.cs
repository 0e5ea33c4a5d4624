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
/// bounded query (<see cref="MaxResults"/>) built with safe quoting from the prefix typed so far, on the command's
/// <c>-Connection</c> or the session's; answers cached per connection for <see cref="CacheLifetime"/>; a short
/// <see cref="Timeout"/>; and silence on any failure (no connection, refused, slow, throttled): completion never
/// prints an error or blocks the prompt for long.
/// </summary>
public abstract class HubValueCompleter : IArgumentCompleter
{
    /// <summary>The most values one completion asks the hub for.</summary>
    public const int MaxResults = 50;

    /// <summary>How long an answer is reused for the same connection and query.</summary>
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

            string? query = BuildQuery(prefix, fakeBoundParameters ?? new Hashtable());
            if (query is null)
            {
                return [];
            }

            return Lookup(connection, query)
                .Where(value => value.StartsWith(prefix, StringComparison.Ordinal))
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
    /// The query that lists values starting with <paramref name="prefix"/> (quote every literal with
    /// <see cref="QueryLiteral.Quote"/>); null when nothing should be asked. Use <c>TOP</c> <see cref="MaxResults"/>.
    /// </summary>
    protected abstract string? BuildQuery(string prefix, IDictionary fakeBoundParameters);

    /// <summary>The value of one result row (e.g. its <c>deviceId</c>); null to skip the row.</summary>
    protected abstract string? ValueOf(JsonNode row);

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

    private string[] Lookup(IoTHubConnection connection, string query)
    {
        ConcurrentDictionary<string, CachedAnswer> cache = Caches.GetValue(connection, _ => new ConcurrentDictionary<string, CachedAnswer>(StringComparer.Ordinal));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (cache.TryGetValue(query, out CachedAnswer? cached) && now - cached.At < CacheLifetime)
        {
            return cached.Values;
        }

        using var timeout = new CancellationTokenSource(Timeout);
        QueryPage page = Task.Run(() => connection.ServiceClient.QueryPageAsync(query, new QueryOptions { PageSize = MaxResults }, timeout.Token))
            .WaitAsync(Timeout)
            .GetAwaiter()
            .GetResult();
        string[] values = page.Items.Select(ValueOf).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        foreach (KeyValuePair<string, CachedAnswer> stale in cache.Where(pair => now - pair.Value.At >= CacheLifetime).ToArray())
        {
            cache.TryRemove(stale.Key, out _);
        }

        cache[query] = new CachedAnswer(now, values);
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

/// <summary>Completes <c>-DeviceId</c> with the ids of the connected hub's devices that start with what was typed.</summary>
public sealed class DeviceIdCompleter : HubValueCompleter
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
public sealed class ModuleIdCompleter : HubValueCompleter
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
/// Completes <c>-JobId</c> with the ids of the hub's jobs that start with what was typed, from the per-device job
/// entries (<c>devices.jobs</c>), so it needs no jobs API of its own. Put <c>[ArgumentCompleter(typeof(JobIdCompleter))]</c>
/// on a job cmdlet's <c>-JobId</c>.
/// </summary>
public sealed class JobIdCompleter : HubValueCompleter
{
    /// <inheritdoc/>
    protected override string? BuildQuery(string prefix, IDictionary fakeBoundParameters) =>
        prefix.Length == 0
            ? $"SELECT TOP {MaxResults} * FROM devices.jobs"
            : $"SELECT TOP {MaxResults} * FROM devices.jobs WHERE STARTSWITH(devices.jobs.jobId, {QueryLiteral.Quote(prefix)})";

    /// <inheritdoc/>
    protected override string? ValueOf(JsonNode row) => (string?)(row as JsonObject)?["jobId"];
}
