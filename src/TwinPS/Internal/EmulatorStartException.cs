namespace TwinPS.Internal;

/// <summary>Why an emulator could not be started (the message includes the end of its stderr).</summary>
internal sealed class EmulatorStartException(string message) : Exception(message);
