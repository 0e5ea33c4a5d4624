using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace TwinPS.Completion;

/// <summary>
/// Completes an IoT Hub query as it is typed (<c>Search-IoTTwin -Query</c>): the next keyword (SELECT, FROM, WHERE,
/// GROUP BY, AND, OR, …), the collections (<c>devices</c>, <c>devices.modules</c>, <c>devices.jobs</c>) and the roots of
/// twin properties (<c>tags.</c>, <c>properties.desired.</c>, <c>properties.reported.</c>, identity fields). It works
/// inside the quotes the query is typed in and asks the hub nothing.
/// </summary>
public class QueryCompleter : IArgumentCompleter
{
    private static readonly string[] Starts = ["SELECT * FROM devices", "SELECT * FROM devices.modules", "SELECT"];
    private static readonly string[] AfterSelect = ["*", "COUNT() AS", "TOP", "deviceId", "moduleId", "tags.", "properties.desired.", "properties.reported."];
    private static readonly string[] Collections = ["devices", "devices.modules", "devices.jobs"];
    private static readonly string[] AfterCollection = ["WHERE", "GROUP BY"];
    private static readonly string[] Conditions =
    [
        "tags.", "properties.desired.", "properties.reported.", "deviceId", "moduleId", "status", "connectionState",
        "lastActivityTime", "capabilities.iotEdge", "IS_DEFINED(", "STARTSWITH(", "ENDSWITH(", "NOT",
    ];

    private static readonly string[] Paths = ["tags.", "properties.desired.", "properties.reported.", "deviceId", "moduleId", "status", "connectionState"];
    private static readonly string[] AfterValue = ["AND", "OR", "GROUP BY"];
    private static readonly string[] AfterConditionValue = ["AND", "OR"];

    private readonly bool _condition;

    /// <summary>Completes a whole query (SELECT … FROM … WHERE …).</summary>
    public QueryCompleter()
        : this(condition: false)
    {
    }

    /// <summary>Completes a whole query, or (<paramref name="condition"/>) only a WHERE clause without WHERE.</summary>
    protected QueryCompleter(bool condition) => _condition = condition;

    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string word = wordToComplete ?? string.Empty;
        char? quote = null;
        bool closed = false;
        if (word.Length > 0 && word[0] is '\'' or '"')
        {
            quote = word[0];
            closed = word.Length > 1 && word[^1] == quote;
            word = closed ? word[1..^1] : word[1..];

            // For a string still being typed, PowerShell passes the word with the closing quote added; the command line
            // itself shows whether it is really there. An open string stays open, so typing can go on.
            if (closed && commandAst is not null &&
                !commandAst.CommandElements.Any(element => string.Equals(element.Extent.Text, wordToComplete, StringComparison.Ordinal)))
            {
                closed = false;
            }
        }

        // The text before the word being typed, and that word.
        int split = word.LastIndexOfAny([' ', '\t', '(']) + 1;
        string head = word[..split];
        string partial = word[split..];
        string[] tokens = head.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        string previous = tokens.Length == 0 ? string.Empty : tokens[^1].ToUpperInvariant();

        string[] afterValue = _condition ? AfterConditionValue : AfterValue;
        string[] candidates = tokens.Length == 0 ? (_condition ? Conditions : Starts)
            : previous.EndsWith('(') ? Paths
            : previous switch
            {
                "SELECT" => AfterSelect,
                "FROM" => Collections,
                "DEVICES" or "DEVICES.MODULES" or "DEVICES.JOBS" when tokens.Length >= 2 && tokens[^2].Equals("FROM", StringComparison.OrdinalIgnoreCase) => AfterCollection,
                "WHERE" or "AND" or "OR" or "NOT" => Conditions,
                "GROUP" => ["BY"],
                "BY" => Paths,
                _ when IsComparison(previous) => [],
                _ when tokens.Length >= 2 && IsComparison(tokens[^2]) => afterValue,
                _ when previous.EndsWith(')') => afterValue,
                _ => [],
            };

        var results = new List<CompletionResult>();
        foreach (string candidate in candidates)
        {
            if (!candidate.StartsWith(partial, StringComparison.OrdinalIgnoreCase) || candidate.Equals(partial, StringComparison.Ordinal))
            {
                continue;
            }

            string text = head + candidate + (candidate.EndsWith('.') || candidate.EndsWith('(') ? string.Empty : " ");
            if (closed)
            {
                text = text.TrimEnd();
            }

            char q = quote ?? '"';
            string source = q == '\'' ? text.Replace("'", "''", StringComparison.Ordinal) : text.Replace("`", "``", StringComparison.Ordinal).Replace("$", "`$", StringComparison.Ordinal);
            results.Add(new CompletionResult(q + source + (closed ? q.ToString() : string.Empty), candidate, CompletionResultType.ParameterValue, candidate));
        }

        return results;
    }

    private static bool IsComparison(string token) => token is "=" or "!=" or "<>" or "<" or ">" or "<=" or ">=" or "IN";
}

/// <summary>
/// Completes a job's <c>-Condition</c> (a WHERE clause without WHERE, as in <c>Start-IoTTwinUpdateJob</c>): the
/// property roots, functions and identity fields a condition starts with, then AND / OR, like the WHERE part of
/// <see cref="QueryCompleter"/>.
/// </summary>
public sealed class QueryConditionCompleter : QueryCompleter
{
    /// <summary>Completes a condition.</summary>
    public QueryConditionCompleter()
        : base(condition: true)
    {
    }
}
