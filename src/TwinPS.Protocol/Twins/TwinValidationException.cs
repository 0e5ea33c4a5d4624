namespace TwinPS.Protocol;

/// <summary>A twin document broke a validation rule. Code ArgumentInvalid; <see cref="Path"/> names the offending key.</summary>
public sealed class TwinValidationException : IoTHubProtocolException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public TwinValidationException()
        : this(string.Empty, "The twin document is invalid.")
    {
    }

    /// <summary>Creates the exception with a message and no path.</summary>
    public TwinValidationException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public TwinValidationException(string message, Exception innerException)
        : base(IoTHubErrorCode.ArgumentInvalid, message, innerException)
    {
        Path = string.Empty;
    }

    /// <summary>Creates the exception for the dotted <paramref name="path"/> (e.g. <c>tags.location.plant</c>).</summary>
    public TwinValidationException(string path, string message)
        : base(IoTHubErrorCode.ArgumentInvalid, message)
    {
        Path = path;
    }

    /// <summary>The dotted path of the offending key or section, e.g. <c>properties.desired.a.b</c>; array items as <c>[i]</c>.</summary>
    public string Path { get; }
}
