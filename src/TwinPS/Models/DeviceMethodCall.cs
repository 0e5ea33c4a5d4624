using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// A direct-method call a device session received (PowerShell type name <c>TwinPS.DeviceMethodCall</c>): the output of
/// <c>Wait-IoTDeviceMethod</c> and the event data of <see cref="DeviceSession.MethodCalled"/>. Pipe it to
/// <c>Send-IoTDeviceMethodResponse</c> to answer it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "Also the output object of Wait-IoTDeviceMethod (TwinPS.DeviceMethodCall); one type for both keeps scripts simple.")]
public sealed class DeviceMethodCall : EventArgs
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.DeviceMethodCall";

    private readonly JsonNode? _payload;
    private object? _payloadObject;
    private int _answered;

    internal DeviceMethodCall(DeviceSession session, DirectMethodCallEventArgs args)
    {
        Session = session;
        DeviceId = session.DeviceId;
        ModuleId = session.ModuleId;
        RequestId = args.RequestId;
        MethodName = args.MethodName;
        _payload = args.Payload;
        ReceivedAt = args.ReceivedAt;
    }

    /// <summary>The device that received the call.</summary>
    public string DeviceId { get; }

    /// <summary>The module, for a module session.</summary>
    public string? ModuleId { get; }

    /// <summary>The hub's request id (answer with it).</summary>
    public string RequestId { get; }

    /// <summary>The method name.</summary>
    public string MethodName { get; }

    /// <summary>The payload as PowerShell objects (<c>$null</c> when none was sent).</summary>
    public object? Payload => _payloadObject ??= PSObjectJson.ToPowerShell(_payload);

    /// <summary>When the call arrived.</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>True once Send-IoTDeviceMethodResponse answered it.</summary>
    public bool Answered => Volatile.Read(ref _answered) == 1;

    /// <summary>The session that received the call (Send-IoTDeviceMethodResponse answers through it).</summary>
    public DeviceSession Session { get; }

    /// <summary>The payload as JSON text.</summary>
    public string PayloadJson() => _payload?.ToJsonString() ?? "null";

    /// <summary><c>deviceId MethodName(rid)</c>.</summary>
    public override string ToString() => $"{ErrorRecords.Target(DeviceId, ModuleId)} {MethodName} (request {RequestId})";

    internal bool MarkAnswered() => Interlocked.Exchange(ref _answered, 1) == 0;

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
