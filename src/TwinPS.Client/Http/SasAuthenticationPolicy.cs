using Azure.Core;
using Azure.Core.Pipeline;
using TwinPS.Protocol;

namespace TwinPS.Client.Http;

/// <summary>
/// Signs every request with a SAS token made from a service connection string. The token is cached and renewed a
/// margin before it expires; thread-safe (one token shared by all concurrent requests).
/// </summary>
internal sealed class SasAuthenticationPolicy : HttpPipelineSynchronousPolicy
{
    private readonly IoTHubConnectionString _connectionString;
    private readonly TimeSpan _timeToLive;
    private readonly TimeSpan _renewalMargin;
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private string? _token;
    private DateTimeOffset _renewAt;

    public SasAuthenticationPolicy(IoTHubConnectionString connectionString, TimeSpan timeToLive, TimeSpan? renewalMargin, TimeProvider? clock = null)
    {
        if (timeToLive < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "The SAS token lifetime must be at least one second.");
        }

        _connectionString = connectionString;
        _timeToLive = timeToLive;
        _renewalMargin = renewalMargin ?? DefaultMargin(timeToLive);
        if (_renewalMargin < TimeSpan.Zero || _renewalMargin >= timeToLive)
        {
            throw new ArgumentOutOfRangeException(nameof(renewalMargin), renewalMargin, "The SAS renewal margin must be at least zero and shorter than the token lifetime.");
        }

        _clock = clock ?? TimeProvider.System;
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        message.Request.Headers.SetValue(HttpHeader.Names.Authorization, CurrentToken());
    }

    internal string CurrentToken()
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            if (_token is null || now >= _renewAt)
            {
                // Round the expiry up to whole seconds (the token carries whole seconds) so renewal timing is exact.
                var expiresOn = DateTimeOffset.FromUnixTimeSeconds((long)Math.Ceiling((now + _timeToLive).ToUnixTimeMilliseconds() / 1000.0));
                _token = _connectionString.CreateSasToken(expiresOn);
                _renewAt = expiresOn - _renewalMargin;
            }

            return _token;
        }
    }

    private static TimeSpan DefaultMargin(TimeSpan timeToLive)
    {
        var fifth = timeToLive / 5;
        return fifth < TimeSpan.FromMinutes(5) ? fifth : TimeSpan.FromMinutes(5);
    }
}
