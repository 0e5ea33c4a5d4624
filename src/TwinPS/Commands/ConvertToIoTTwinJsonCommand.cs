using System.Management.Automation;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// ConvertTo-IoTTwinJson: the hub's own JSON of twins (deviceId, etag, properties.desired with <c>$metadata</c> and
/// <c>$version</c>, …), device identities (without keys) and device-side twins, exactly as the hub sent them. Like
/// ConvertTo-Json, one input gives one JSON object and several give one JSON array.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "IoTTwinJson")]
[OutputType(typeof(string))]
public sealed class ConvertToIoTTwinJsonCommand : PSCmdlet
{
    private readonly List<JsonNode> _documents = [];

    /// <summary>A twin (Get-IoTTwin, Search-IoTTwin), a device (Get-IoTDevice) or a device-side twin (Get-IoTDeviceTwin).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowNull]
    public object? InputObject { get; set; }

    /// <summary>Write compact JSON (one line) instead of indented JSON.</summary>
    [Parameter]
    public SwitchParameter Compress { get; set; }

    /// <summary>Write a JSON array even for a single input.</summary>
    [Parameter]
    public SwitchParameter AsArray { get; set; }

    /// <inheritdoc/>
    protected override void ProcessRecord()
    {
        object? item = InputObject is PSObject wrapped ? wrapped.BaseObject : InputObject;
        JsonNode? document = item switch
        {
            Twin twin => twin.Document.DeepClone(),
            Device device => device.Identity.Json.DeepClone(),
            DeviceSessionTwin deviceTwin => JsonNode.Parse(deviceTwin.ToJson()),
            _ => null,
        };
        if (document is null)
        {
            string what = item is null ? "$null" : (InputObject as PSObject)?.TypeNames.FirstOrDefault() ?? item.GetType().FullName ?? "?";
            WriteError(ErrorRecords.InvalidInput("NotATwinPSObject",
                $"ConvertTo-IoTTwinJson takes twins (Get-IoTTwin, Search-IoTTwin), devices (Get-IoTDevice) or device twins " +
                $"(Get-IoTDeviceTwin), not {what}. For other objects use ConvertTo-Json.", InputObject));
            return;
        }

        _documents.Add(document);
    }

    /// <inheritdoc/>
    protected override void EndProcessing()
    {
        if (_documents.Count == 0)
        {
            return;
        }

        var options = new JsonSerializerOptions
        {
            WriteIndented = !Compress.IsPresent,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        JsonNode output = _documents.Count == 1 && !AsArray.IsPresent ? _documents[0] : new JsonArray([.. _documents]);
        WriteObject(output.ToJsonString(options));
    }
}
