using System.Management.Automation;
using System.Threading.Channels;
using TwinPS.Client.Device;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// A device (or module) connected to IoT Hub over MQTT by <c>Connect-IoTDevice</c> (PowerShell type name
/// <c>TwinPS.DeviceSession</c>). Raises <see cref="DesiredPropertiesReceived"/> for every desired-properties patch
/// (<c>Register-ObjectEvent $session DesiredPropertiesReceived</c>) and keeps the patches not yet read by
/// <c>Wait-IoTTwinDesired</c> (up to <see cref="PendingLimit"/>, oldest dropped first). It holds no secret in any
/// public member. Closed by <c>Disconnect-IoTDevice</c> or when the module is removed.
/// </summary>
public sealed class DeviceSession : IDisposable
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.DeviceSession";

    /// <summary>How many unread desired patches a session keeps for <c>Wait-IoTTwinDesired</c>.</summary>
    public const int PendingLimit = 1000;

    private readonly Channel<DesiredPatch> _pending = Channel.CreateBounded<DesiredPatch>(
        new BoundedChannelOptions(PendingLimit) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false });

    private readonly Channel<DeviceMethodCall> _pendingCalls = Channel.CreateBounded<DeviceMethodCall>(
        new BoundedChannelOptions(PendingLimit) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false });

    private int _disposed;
    private long _methodCallsReceived;

    internal DeviceSession(IoTHubDeviceClient client, string? caCertificatePath)
    {
        Client = client;
        CACertificatePath = caCertificatePath;
        Client.DesiredPropertiesReceived += OnDesiredPropertiesReceived;
        Client.MethodCalled += OnMethodCalled;
        Client.ConnectionStatusChanged += OnConnectionStatusChanged;
    }

    /// <summary>Raised (on a background thread) for every desired-properties patch, including synthetic ones after a reconnect.</summary>
    public event EventHandler<DesiredPatch>? DesiredPropertiesReceived;

    /// <summary>
    /// Raised (on a background thread) for every direct-method call the session receives
    /// (<c>Register-ObjectEvent $session MethodCalled</c>; <c>$Event.SourceEventArgs</c> is the call, answer it with
    /// <c>Send-IoTDeviceMethodResponse</c>). The call is also kept for <c>Wait-IoTDeviceMethod</c>.
    /// </summary>
    public event EventHandler<DeviceMethodCall>? MethodCalled;

    /// <summary>Raised (on a background thread) when the connection status changes (Connected, Reconnecting, Disconnected, Closed).</summary>
    public event EventHandler<DeviceSessionStatusEventArgs>? StatusChanged;

    /// <summary>The device id.</summary>
    public string DeviceId => Client.DeviceId;

    /// <summary>The module id, for a module identity.</summary>
    public string? ModuleId => Client.ModuleId;

    /// <summary>The hub host name.</summary>
    public string HostName => Client.HostName;

    /// <summary>The MQTT endpoint, <c>host:port</c>.</summary>
    public string Endpoint => Client.Endpoint;

    /// <summary><c>SharedAccessKey</c>, <c>SharedAccessSignature</c> or <c>X509</c>.</summary>
    public string AuthenticationType => Client.AuthenticationType;

    /// <summary>The extra CA certificate trusted for this session, if any.</summary>
    public string? CACertificatePath { get; }

    /// <summary>Connected, Reconnecting, Disconnected (reconnecting stopped, e.g. refused) or Closed.</summary>
    public DeviceConnectionStatus Status => Client.Status;

    /// <summary>When the session was opened (UTC).</summary>
    public DateTime ConnectedAt { get; } = DateTime.UtcNow;

    /// <summary>The desired <c>$version</c> the session last saw.</summary>
    public long DesiredVersion => Client.DesiredVersion;

    /// <summary>Desired patches received and not yet read by <c>Wait-IoTTwinDesired</c>.</summary>
    public int PendingDesiredCount => _pending.Reader.Count;

    /// <summary>Direct-method calls received and not yet read by <c>Wait-IoTDeviceMethod</c>.</summary>
    public int PendingMethodCount => _pendingCalls.Reader.Count;

    /// <summary>How many direct-method calls the session has received since it connected.</summary>
    public long MethodCallsReceived => Interlocked.Read(ref _methodCallsReceived);

    /// <summary>Why the status last changed (no secrets), e.g. the reason reconnecting stopped.</summary>
    public string? LastStatusReason { get; private set; }

    internal IoTHubDeviceClient Client { get; }

    internal ChannelReader<DesiredPatch> PendingPatches => _pending.Reader;

    internal ChannelReader<DeviceMethodCall> PendingMethodCalls => _pendingCalls.Reader;

    internal bool IsClosed => Volatile.Read(ref _disposed) == 1 || Client.Status == DeviceConnectionStatus.Closed;

    /// <summary>Disconnects (same as <c>Disconnect-IoTDevice</c>).</summary>
    public void Close() => Dispose();

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        DeviceSessions.Remove(this);
        Client.Dispose();
        _pending.Writer.TryComplete();
        _pendingCalls.Writer.TryComplete();
    }

    /// <summary>Disconnects asynchronously.</summary>
    internal async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        DeviceSessions.Remove(this);
        await Client.CloseAsync(cancellationToken).ConfigureAwait(false);
        _pending.Writer.TryComplete();
        _pendingCalls.Writer.TryComplete();
    }

    /// <summary><c>deviceId (Status)</c>.</summary>
    public override string ToString() => $"{(ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId)} ({Status})";

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);

    private void OnDesiredPropertiesReceived(object? sender, DesiredPropertiesEventArgs e)
    {
        var patch = new DesiredPatch(DeviceId, ModuleId, e);
        _pending.Writer.TryWrite(patch);
        DesiredPropertiesReceived?.Invoke(this, patch);
    }

    private void OnMethodCalled(object? sender, DirectMethodCallEventArgs e)
    {
        var call = new DeviceMethodCall(this, e);
        Interlocked.Increment(ref _methodCallsReceived);
        _pendingCalls.Writer.TryWrite(call);
        MethodCalled?.Invoke(this, call);
    }

    private void OnConnectionStatusChanged(object? sender, DeviceConnectionStatusEventArgs e)
    {
        LastStatusReason = e.Error is null ? e.Reason : $"{e.Reason}: {e.Error.Message}";
        StatusChanged?.Invoke(this, new DeviceSessionStatusEventArgs(e.Status, LastStatusReason));
        // Closed, or Disconnected for good (reconnecting refused or switched off): no patch can arrive any more,
        // so a Wait-IoTTwinDesired on this session ends after reading what is left.
        if (e.Status is DeviceConnectionStatus.Closed or DeviceConnectionStatus.Disconnected)
        {
            _pending.Writer.TryComplete();
            _pendingCalls.Writer.TryComplete();
        }
    }
}

/// <summary>Event data of <see cref="DeviceSession.StatusChanged"/>.</summary>
public sealed class DeviceSessionStatusEventArgs : EventArgs
{
    internal DeviceSessionStatusEventArgs(DeviceConnectionStatus status, string reason)
    {
        Status = status;
        Reason = reason;
    }

    /// <summary>The new status.</summary>
    public DeviceConnectionStatus Status { get; }

    /// <summary>Why (no secrets).</summary>
    public string Reason { get; }
}
