using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Security;

namespace TwinPS.Emulator.Hosting;

/// <summary>The single JSON line printed on stdout when the emulator is ready.</summary>
internal static class ReadyLine
{
    /// <summary>The service connection string of a policy (<c>HostName=host:port;SharedAccessKeyName=…;SharedAccessKey=…</c>).</summary>
    public static string ConnectionString(string hostName, int httpsPort, SharedAccessPolicy policy) =>
        string.Create(CultureInfo.InvariantCulture, $"HostName={hostName}:{httpsPort};SharedAccessKeyName={policy.Name};SharedAccessKey={policy.PrimaryKey}");

    public static string Build(EmulatorContext context, int? mqttPort, string? dataPath)
    {
        ArgumentNullException.ThrowIfNull(context);
        var policies = new JsonObject();
        foreach (SharedAccessPolicy policy in context.Policies.All)
            policies[policy.Name] = ConnectionString(context.HostName, context.HttpsPort, policy);

        var line = new JsonObject
        {
            ["hostName"] = context.HostName,
            ["httpsPort"] = context.HttpsPort,
            ["mqttPort"] = mqttPort,
            ["hubName"] = context.Options.HubName,
            ["serviceConnectionString"] = ConnectionString(context.HostName, context.HttpsPort, context.Policies.Find("iothubowner")!),
            ["policies"] = policies,
            ["caCertificatePath"] = context.Certificates.CaCertificatePath,
            ["dataPath"] = dataPath,
            ["processId"] = Environment.ProcessId,
            ["throttle"] = context.Options.Throttle.IsEnabled ? JsonNode.Parse(Json(context.Options.Throttle.WriteJson)) : null,
            ["faults"] = context.Options.Faults.IsEnabled ? JsonNode.Parse(Json(context.Options.Faults.WriteJson)) : null,
        };
        return line.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
