using TwinPS.Query;

namespace TwinPS.Client;

/// <summary>Turns the hub's terse "query is invalid" into a pointer at the offending token, using our own parser.</summary>
internal static class QueryDiagnostics
{
    public static string? Diagnose(string query)
    {
        try
        {
            return IoTHubQuery.Diagnose(query)?.Message;
        }
#pragma warning disable CA1031 // A diagnosis is a bonus: a parser fault must never hide the hub's own error.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
