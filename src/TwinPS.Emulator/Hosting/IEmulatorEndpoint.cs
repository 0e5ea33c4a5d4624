namespace TwinPS.Emulator.Hosting;

/// <summary>
/// Seam for extra protocol listeners (the MQTT/TLS device endpoint lives in the <c>Mqtt</c> folder).
/// Every non-abstract class in this assembly that implements this interface is created at start-up through
/// dependency injection (its constructor may take <see cref="EmulatorContext"/>, <c>Domain.DeviceTable</c>, <c>Domain.HubTwins</c>,
/// <c>ILoggerFactory</c>…), started after the HTTPS endpoint is listening and before the ready line is printed,
/// and stopped on shutdown. Nothing else needs to be registered.
/// </summary>
internal interface IEmulatorEndpoint
{
    /// <summary>Short name; the endpoint named <c>mqtt</c> supplies the ready line's <c>mqttPort</c>.</summary>
    string Name { get; }

    /// <summary>Starts listening and returns the TCP port actually bound (resolve port 0 to the real port).</summary>
    Task<int> StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops listening and disconnects clients.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
