using System.Management.Automation;
using TwinPS.Protocol;

namespace TwinPS.Internal;

/// <summary>
/// The parameters of a direct-method call, declared once for Invoke-IoTDeviceMethod and Start-IoTDeviceMethodJob (the
/// cmdlets return it as their dynamic parameters): <c>-MethodName</c>, <c>-Payload</c>, <c>-ResponseTimeout</c>,
/// <c>-ConnectTimeout</c>.
/// </summary>
public sealed class DirectMethodParameters
{
    /// <summary>The method name, e.g. <c>reboot</c>.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string MethodName { get; set; } = string.Empty;

    /// <summary>The payload: a hashtable, PSCustomObject, array, scalar or JSON text (at most 128 KB of JSON).</summary>
    [Parameter(Position = 2)]
    [AllowNull]
    public object? Payload { get; set; }

    /// <summary>Seconds the hub waits for the device's answer (5–300, default 30).</summary>
    [Parameter]
    [ValidateRange(DirectMethodRequest.MinResponseTimeoutSeconds, DirectMethodRequest.MaxResponseTimeoutSeconds)]
    public int ResponseTimeout { get; set; } = DirectMethodRequest.DefaultResponseTimeoutSeconds;

    /// <summary>Seconds the hub waits for an offline device to connect (0–300, default 0: it must be online now).</summary>
    [Parameter]
    [ValidateRange(0, DirectMethodRequest.MaxConnectTimeoutSeconds)]
    public int ConnectTimeout { get; set; }

    /// <summary>The request these parameters describe (throws for malformed JSON, a payload over 128 KB, a bad name).</summary>
    internal DirectMethodRequest ToRequest() =>
        DirectMethodRequest.Create(MethodName, PSObjectJson.FromPowerShell(Payload), ResponseTimeout, ConnectTimeout);
}
