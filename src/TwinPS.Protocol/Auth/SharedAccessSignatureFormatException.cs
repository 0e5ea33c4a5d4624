namespace TwinPS.Protocol;

/// <summary>A SAS token is malformed. Code <see cref="IoTHubErrorCode.IotHubUnauthorizedAccess"/>; the message never echoes the signature.</summary>
public sealed class SharedAccessSignatureFormatException : IoTHubProtocolException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public SharedAccessSignatureFormatException()
        : this("The shared access signature is malformed.")
    {
    }

    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public SharedAccessSignatureFormatException(string message)
        : base(IoTHubErrorCode.IotHubUnauthorizedAccess, message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public SharedAccessSignatureFormatException(string message, Exception innerException)
        : base(IoTHubErrorCode.IotHubUnauthorizedAccess, message, innerException)
    {
    }
}
