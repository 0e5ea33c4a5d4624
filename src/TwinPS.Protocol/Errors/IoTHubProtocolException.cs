namespace TwinPS.Protocol;

/// <summary>A protocol rule was broken. Carries the hub error code the hub would answer with; the message never holds secrets.</summary>
public class IoTHubProtocolException : Exception
{
    /// <summary>Creates an ArgumentInvalid error with a generic message.</summary>
    public IoTHubProtocolException()
        : this(IoTHubErrorCode.ArgumentInvalid, "The request is invalid.")
    {
    }

    /// <summary>Creates an ArgumentInvalid error.</summary>
    public IoTHubProtocolException(string message)
        : this(IoTHubErrorCode.ArgumentInvalid, message)
    {
    }

    /// <summary>Creates an ArgumentInvalid error with an inner exception.</summary>
    public IoTHubProtocolException(string message, Exception innerException)
        : this(IoTHubErrorCode.ArgumentInvalid, message, innerException)
    {
    }

    /// <summary>Creates an error with the given hub code.</summary>
    public IoTHubProtocolException(IoTHubErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates an error with the given hub code and an inner exception.</summary>
    public IoTHubProtocolException(IoTHubErrorCode code, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The hub error code (its numeric value is the wire code).</summary>
    public IoTHubErrorCode Code { get; }

    /// <summary>The HTTP status that goes with <see cref="Code"/>.</summary>
    public int HttpStatus => IoTHubErrors.HttpStatusOf(Code);
}
