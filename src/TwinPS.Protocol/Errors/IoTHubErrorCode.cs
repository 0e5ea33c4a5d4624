namespace TwinPS.Protocol;

/// <summary>
/// IoT Hub error codes. Each value IS the hub's 6-digit numeric code; the first three digits are the HTTP status.
/// Where the sources disagree (400020, 403001) the Microsoft Learn troubleshooting table wins.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "Wire names.")]
public enum IoTHubErrorCode
{
    /// <summary>No code known (garbage or missing error information).</summary>
    Unknown = 0,

    GenericBadRequest = 400000,
    InvalidProtocolVersion = 400001,
    InvalidOperation = 400003,
    ArgumentInvalid = 400004,
    ArgumentNull = 400005,
    IotHubFormatError = 400006,
    DeviceDefinedMultipleTimes = 400011,
    BulkRegistryOperationFailure = 400013,
    /// <summary>400020: Learn says InvalidStorageEndpointOrBlob; the C# v2 enum calls it IotHubSuspended. Learn chosen.</summary>
    InvalidStorageEndpointOrBlob = 400020,
    EtagDoesNotMatch = 400023,
    InvalidConfigurationTargetCondition = 400401,
    InvalidConfigurationContent = 400402,
    CannotModifyImmutableConfigurationContent = 400403,
    InvalidConfigurationCustomMetricsQuery = 400404,

    GenericUnauthorized = 401000,
    IotHubUnauthorizedAccess = 401002,
    IotHubUnauthorized = 401003,

    GenericForbidden = 403000,
    /// <summary>403001: Learn and C# v1 say IotHubSuspended; the C# v2 enum says JobQuotaExceeded. Learn chosen.</summary>
    IotHubSuspended = 403001,
    IotHubQuotaExceeded = 403002,
    JobQuotaExceeded = 403003,
    DeviceMaximumQueueDepthExceeded = 403004,
    OperationNotAvailableInCurrentTier = 403010,

    GenericNotFound = 404000,
    DeviceNotFound = 404001,
    JobNotFound = 404002,
    ModuleNotFound = 404010,
    DeviceNotOnline = 404103,
    ConfigurationNotFound = 404301,

    GenericMethodNotAllowed = 405000,
    OperationNotAllowedInCurrentState = 405102,

    /// <summary>Client-side only (C# v2); never sent by the hub.</summary>
    RequestTimeout = 408000,

    GenericConflict = 409000,
    DeviceAlreadyExists = 409001,
    JobAlreadyExists = 409104,
    ModuleAlreadyExistsOnDevice = 409301,
    ConfigurationAlreadyExists = 409401,

    GenericPreconditionFailed = 412000,
    PreconditionFailed = 412001,
    DeviceMessageLockLost = 412002,

    GenericRequestEntityTooLarge = 413000,
    MessageTooLarge = 413001,
    TooManyDevices = 413002,
    TooManyModulesOnDevice = 413003,
    ConfigurationCountLimitExceeded = 413101,

    GenericUnsupportedMediaType = 415000,

    GenericTooManyRequests = 429000,
    ThrottlingException = 429001,
    ThrottleBacklogLimitExceeded = 429002,
    ThrottlingBacklogTimeout = 429003,
    ThrottlingMaxActiveJobCountExceeded = 429004,
    DeviceThrottlingLimitExceeded = 429005,

    GenericServerError = 500000,
    ServerError = 500001,
    GenericTimeout = 500008,

    GenericServiceUnavailable = 503000,
    ServiceUnavailable = 503001,
    ServerBusy = 503005,

    GatewayTimeout = 504101,
}
