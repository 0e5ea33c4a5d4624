using System.Management.Automation;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Emits direct-method calls as device sessions receive them.</para>
/// <para type="description">Writes a TwinPS.DeviceMethodCall for each call, starting with calls the session received and
/// nobody has answered yet, until -Count calls were written, -Timeout seconds passed, every session closed, or Ctrl+C.
/// Answer each with Send-IoTDeviceMethodResponse.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "IoTDeviceMethod")]
[OutputType(typeof(DeviceMethodCall))]
public sealed class WaitIoTDeviceMethodCommand() : SessionWaitCommandBase<DeviceMethodCall>(SessionQueues.MethodCalls);
