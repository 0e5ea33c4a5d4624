using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Get-IoTDevice: device identities by id (many concurrently), or every device of the hub.</summary>
[Cmdlet(VerbsCommon.Get, "IoTDevice")]
[OutputType(typeof(Device))]
public sealed class GetIoTDeviceCommand : ConnectionCmdlet
{
    /// <summary>The device id(s); omit to list every device (identity fields only, without keys).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>How many devices are read at once.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    /// <inheritdoc/>
    internal override ThrottleClass ReportedThrottleClass => DeviceId.Length == 0 ? ThrottleClass.Query : ThrottleClass.Registry;

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (DeviceId.Length == 0)
        {
            await ListAllAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        ExpectItems(DeviceId.Length);
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateDeviceId(deviceId))
            {
                continue;
            }

            await EnqueueWork(token => RunDeviceAsync(deviceId, async () =>
                WriteDeviceSafe(await Client.GetDeviceAsync(deviceId, token).ConfigureAwait(false)))).ConfigureAwait(false);
        }
    }

    // Every device through the query API (the registry's list operation is deprecated and capped at 1000). Twins carry
    // the identity's fields (deviceEtag, status, authenticationType, thumbprints, capabilities) but never the keys.
    private async Task ListAllAsync(CancellationToken cancellationToken)
    {
        await foreach (QueryPage page in Client.QueryAsync("SELECT * FROM devices", null, cancellationToken).ConfigureAwait(false))
        {
            foreach (JsonNode item in page.Items)
            {
                if (item is JsonObject twin && twin["deviceId"] is JsonValue)
                {
                    WriteDeviceSafe(DeviceIdentity.FromJson(ToDeviceDocument(twin)));
                    Reporter?.ItemDone();
                }
            }

            // One page at a time: wait until this page is written before asking for the next one.
            await FlushPipelineCallsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static JsonObject ToDeviceDocument(JsonObject twin)
    {
        var device = new JsonObject { ["deviceId"] = twin["deviceId"]?.DeepClone() };
        void Copy(string from, string to)
        {
            if (twin[from] is JsonNode value)
            {
                device[to] = value.DeepClone();
            }
        }

        Copy("deviceEtag", "etag");
        Copy("status", "status");
        Copy("statusReason", "statusReason");
        Copy("statusUpdateTime", "statusUpdatedTime");
        Copy("connectionState", "connectionState");
        Copy("lastActivityTime", "lastActivityTime");
        Copy("cloudToDeviceMessageCount", "cloudToDeviceMessageCount");
        Copy("capabilities", "capabilities");
        Copy("deviceScope", "deviceScope");
        Copy("parentScopes", "parentScopes");
        var auth = new JsonObject { ["type"] = twin["authenticationType"]?.DeepClone() ?? "sas" };
        if (twin["x509Thumbprint"] is JsonObject thumbprints)
        {
            auth["x509Thumbprint"] = thumbprints.DeepClone();
        }

        device["authentication"] = auth;
        return device;
    }
}
