using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// A device's answer to a direct method (PowerShell type name <c>TwinPS.MethodResult</c>): the output of
/// <c>Invoke-IoTDeviceMethod</c>, one per device.
/// </summary>
public sealed class MethodResult
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.MethodResult";

    private readonly DirectMethodResult _result;
    private object? _payload;

    internal MethodResult(DirectMethodResult result)
    {
        _result = result;
    }

    /// <summary>The device id.</summary>
    public string DeviceId => _result.DeviceId;

    /// <summary>The module id, for a module target.</summary>
    public string? ModuleId => _result.ModuleId;

    /// <summary>The method that was called.</summary>
    public string MethodName => _result.MethodName;

    /// <summary>The status the device answered with (e.g. 200; the device chooses it).</summary>
    public int Status => _result.Status;

    /// <summary>The payload the device answered with, as PowerShell objects.</summary>
    public object? Payload => _payload ??= PSObjectJson.ToPowerShell(_result.Payload);

    /// <summary>The payload as JSON text.</summary>
    public string PayloadJson() => _result.Payload?.ToJsonString() ?? "null";

    /// <inheritdoc/>
    public override string ToString() => $"{ErrorRecords.Target(DeviceId, ModuleId)} {MethodName}: {Status}";

    internal PSObject ToPSObject()
    {
        var wrapped = new PSObject(this);
        wrapped.TypeNames.Insert(0, TypeName);
        return wrapped;
    }
}
