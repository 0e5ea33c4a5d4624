namespace TwinPS.Emulator.Storage;

/// <summary>One row change for the SQLite store. A list of them is committed in one transaction.</summary>
internal abstract record StoreOperation
{
    /// <summary>Insert or replace a device row (identity JSON and twin storage JSON).</summary>
    public sealed record PutDevice(string DeviceId, string Identity, string Twin) : StoreOperation;

    /// <summary>Replace only the twin of an existing device row (twin writes leave the identity column alone).</summary>
    public sealed record PutDeviceTwin(string DeviceId, string Twin) : StoreOperation;

    /// <summary>Replace only the twin of an existing module row.</summary>
    public sealed record PutModuleTwin(string DeviceId, string ModuleId, string Twin) : StoreOperation;

    /// <summary>Delete a device row and all its module rows.</summary>
    public sealed record DeleteDevice(string DeviceId) : StoreOperation;

    /// <summary>Insert or replace a module row.</summary>
    public sealed record PutModule(string DeviceId, string ModuleId, string Identity, string Twin) : StoreOperation;

    /// <summary>Delete one module row.</summary>
    public sealed record DeleteModule(string DeviceId, string ModuleId) : StoreOperation;

    /// <summary>Insert or replace a jobs v2 job (its JobResponse JSON plus runner state).</summary>
    public sealed record PutJob(string JobId, string Job) : StoreOperation;

    /// <summary>Insert or replace one device's record of a job (its DeviceJob JSON).</summary>
    public sealed record PutDeviceJob(string JobId, string DeviceId, string DeviceJob) : StoreOperation;

    /// <summary>Insert or replace a setting (policy keys, secrets).</summary>
    public sealed record PutMeta(string Key, string Value) : StoreOperation;
}

/// <summary>A stored row as loaded at start-up.</summary>
internal sealed record StoredDevice(string DeviceId, string Identity, string Twin);

/// <summary>A stored module row as loaded at start-up.</summary>
internal sealed record StoredModule(string DeviceId, string ModuleId, string Identity, string Twin);
