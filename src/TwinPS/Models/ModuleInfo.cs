using System.Globalization;
using System.Management.Automation;
using TwinPS.Client;

namespace TwinPS.Models;

/// <summary>
/// A module identity (PowerShell type name <c>TwinPS.Module</c>): the output of New-IoTModule and Get-IoTModule. Its
/// keys are never shown; Get-IoTDeviceConnectionString -ModuleId builds the module's connection string.
/// </summary>
public sealed class ModuleInfo
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.Module";

    private readonly ModuleIdentity _module;

    internal ModuleInfo(ModuleIdentity module, string hostName)
    {
        _module = module;
        HostName = hostName;
    }

    /// <summary>The device id.</summary>
    public string DeviceId => _module.DeviceId;

    /// <summary>The module id.</summary>
    public string ModuleId => _module.ModuleId;

    /// <summary>The module identity's ETag (for a conditional Remove-IoTModule).</summary>
    public string? ETag => _module.ETag;

    /// <summary>The generation id (changes when a module of the same id is re-created).</summary>
    public string? GenerationId => _module.GenerationId;

    /// <summary>Who manages the module (e.g. IoT Edge), if anyone.</summary>
    public string? ManagedBy => _module.ManagedBy;

    /// <summary>Connected or Disconnected.</summary>
    public string? ConnectionState => _module.ConnectionState;

    /// <summary>The module's last activity ($null when never).</summary>
    public DateTimeOffset? LastActivityTime =>
        DateTimeOffset.TryParse(_module.LastActivityTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) && value.Year > 1 ? value : null;

    /// <summary>Sas, SelfSigned, CertificateAuthority or None.</summary>
    public DeviceAuthenticationType AuthenticationType => _module.AuthenticationType;

    /// <summary>The hub.</summary>
    public string HostName { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{DeviceId}/{ModuleId}";

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
