namespace TwinPS.Emulator.Mqtt;

/// <summary>
/// A read-side guard in front of MQTTnet's packet reader: it follows the MQTT fixed headers in the byte stream as they
/// pass through and fails the read that would hand MQTTnet a remaining length above the limit, so an oversized packet
/// is refused on its header, before MQTTnet allocates or buffers its body (MQTTnet allocates the whole body up front).
/// Writes pass through unchanged.
/// </summary>
internal sealed class MqttPacketLimitStream(Stream inner, int maxRemainingLength) : Stream
{
    private enum State
    {
        FixedHeader,
        RemainingLength,
        Body,
    }

    private State _state = State.FixedHeader;
    private long _remainingLength;
    private long _multiplier = 1;
    private int _lengthBytes;
    private long _bodyLeft;

    /// <summary>The remaining length of the packet that was refused (0 while none was).</summary>
    public long RefusedLength { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Inspect(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Inspect(buffer.Span[..n]);
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Advances the header state machine over bytes about to be returned; throws before returning an oversized header.</summary>
    private void Inspect(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            switch (_state)
            {
                case State.FixedHeader:
                    _state = State.RemainingLength;
                    _remainingLength = 0;
                    _multiplier = 1;
                    _lengthBytes = 0;
                    i++;
                    break;
                case State.RemainingLength:
                    byte b = bytes[i++];
                    _remainingLength += (b & 0x7F) * _multiplier;
                    _multiplier *= 128;
                    _lengthBytes++;
                    if (_remainingLength > maxRemainingLength)
                    {
                        RefusedLength = _remainingLength;
                        throw new MqttPacketTooLargeException(_remainingLength, maxRemainingLength);
                    }

                    if ((b & 0x80) == 0)
                    {
                        _bodyLeft = _remainingLength;
                        _state = _bodyLeft == 0 ? State.FixedHeader : State.Body;
                    }
                    else if (_lengthBytes == 4)
                    {
                        throw new IOException("Malformed MQTT remaining length (more than 4 bytes).");
                    }

                    break;
                default:
                    int take = (int)Math.Min(_bodyLeft, bytes.Length - i);
                    i += take;
                    _bodyLeft -= take;
                    if (_bodyLeft == 0) _state = State.FixedHeader;
                    break;
            }
        }
    }
}

/// <summary>An MQTT packet announced a remaining length above the emulator's limit; the connection is closed.</summary>
internal sealed class MqttPacketTooLargeException(long length, int limit)
    : IOException($"MQTT packet of {length} bytes refused: the limit is {limit} bytes.");
