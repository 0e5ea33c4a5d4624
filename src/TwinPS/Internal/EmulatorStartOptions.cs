namespace TwinPS.Internal;

/// <summary>Options of one emulator start.</summary>
internal sealed record EmulatorStartOptions(int HttpsPort, int MqttPort, string? DataPath, bool InMemory, string? HubName, TimeSpan Timeout)
{
    /// <summary>Throttle and fault options (<c>--tier</c>, <c>--rate</c>, <c>--fault-rate</c>, …) passed to the emulator as they are.</summary>
    public IReadOnlyList<string> LimitArguments { get; init; } = [];

    /// <summary>The user's own shared access policies, each <c>NAME=Right,Right</c> (the emulator's <c>--policy</c>).</summary>
    public IReadOnlyList<string> Policies { get; init; } = [];
}
