using System.Management.Automation;
using TwinPS.Client;

namespace TwinPS.Models;

/// <summary>
/// A device's answer to a direct method (PowerShell type name <c>TwinPS.MethodResult</c>): the output of
/// <c>Invoke-IoTDeviceMethod</c>, one per device.
/// </summary>
public sealed class MethodResult : DeviceAnswer
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.MethodResult";

    private readonly DirectMethodResult _result;

    internal MethodResult(DirectMethodResult result)
        : base(result.DeviceId, result.ModuleId, result.Payload)
    {
        _result = result;
    }

    /// <summary>The method that was called.</summary>
    public string MethodName => _result.MethodName;

    /// <summary>The status the device answered with (e.g. 200; the device chooses it).</summary>
    public int Status => _result.Status;

    /// <summary>The payload the device answered with, as PowerShell objects.</summary>
    public object? Payload => AnswerPayload;

    /// <summary>The payload as JSON text.</summary>
    public string PayloadJson() => _result.Payload?.ToJsonString() ?? "null";

    /// <inheritdoc/>
    public override string ToString() => $"{Target} {MethodName}: {Status}";

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
