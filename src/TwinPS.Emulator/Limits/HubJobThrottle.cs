using TwinPS.Emulator.Jobs;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Limits;

/// <summary>The job runner's per-device pace: the tier's <see cref="ThrottleClass.JobDevice"/> budget (waits, never refuses).</summary>
internal sealed class HubJobThrottle(HubThrottle throttle) : IJobThrottle
{
    public ValueTask DeviceOperationAsync(CancellationToken cancellationToken) =>
        throttle.WaitAsync(ThrottleClass.JobDevice, 1, cancellationToken);
}
