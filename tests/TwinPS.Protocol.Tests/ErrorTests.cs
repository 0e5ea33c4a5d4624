using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class ErrorTests
{
    private static readonly DateTimeOffset Stamp = new(2026, 8, 15, 9, 7, 13, TimeSpan.Zero);

    [Theory]
    [InlineData(IoTHubErrorCode.DeviceNotFound, 404001, 404)]
    [InlineData(IoTHubErrorCode.PreconditionFailed, 412001, 412)]
    [InlineData(IoTHubErrorCode.ArgumentInvalid, 400004, 400)]
    [InlineData(IoTHubErrorCode.IotHubFormatError, 400006, 400)]
    [InlineData(IoTHubErrorCode.InvalidProtocolVersion, 400001, 400)]
    [InlineData(IoTHubErrorCode.IotHubUnauthorizedAccess, 401002, 401)]
    [InlineData(IoTHubErrorCode.ThrottlingBacklogTimeout, 429003, 429)]
    [InlineData(IoTHubErrorCode.ThrottlingException, 429001, 429)]
    [InlineData(IoTHubErrorCode.ServerError, 500001, 500)]
    [InlineData(IoTHubErrorCode.ServiceUnavailable, 503001, 503)]
    [InlineData(IoTHubErrorCode.DeviceAlreadyExists, 409001, 409)]
    [InlineData(IoTHubErrorCode.ModuleAlreadyExistsOnDevice, 409301, 409)]
    [InlineData(IoTHubErrorCode.ModuleNotFound, 404010, 404)]
    [InlineData(IoTHubErrorCode.TooManyDevices, 413002, 413)]
    [InlineData(IoTHubErrorCode.DeviceDefinedMultipleTimes, 400011, 400)]
    [InlineData(IoTHubErrorCode.BulkRegistryOperationFailure, 400013, 400)]
    [InlineData(IoTHubErrorCode.JobNotFound, 404002, 404)]
    [InlineData(IoTHubErrorCode.JobAlreadyExists, 409104, 409)]
    [InlineData(IoTHubErrorCode.GenericUnauthorized, 401000, 401)]
    [InlineData(IoTHubErrorCode.GatewayTimeout, 504101, 504)]
    public void Codes_are_the_numeric_wire_codes_and_status_is_the_first_three_digits(IoTHubErrorCode code, int number, int status)
    {
        Assert.Equal(number, (int)code);
        Assert.Equal(status, IoTHubErrors.HttpStatusOf(code));
    }

    [Fact]
    public void Unknown_code_maps_to_500()
    {
        Assert.Equal(500, IoTHubErrors.HttpStatusOf(IoTHubErrorCode.Unknown));
        Assert.False(IoTHubErrors.IsTransient(IoTHubErrorCode.Unknown));
    }

    [Fact]
    public void Every_defined_code_has_a_six_digit_value_whose_status_is_real()
    {
        foreach (var code in Enum.GetValues<IoTHubErrorCode>().Where(c => c != IoTHubErrorCode.Unknown))
        {
            Assert.InRange((int)code, 400000, 599999);
            Assert.True(IoTHubErrors.TryFromNumber((int)code, out var back));
            Assert.Equal(code, back);
            Assert.True(IoTHubErrors.TryParseName(code.ToString().ToUpperInvariant(), out var byName));
            Assert.Equal(code, byName);
        }
    }

    [Theory]
    [InlineData(IoTHubErrorCode.IotHubQuotaExceeded, true)]
    [InlineData(IoTHubErrorCode.DeviceNotOnline, true)]
    [InlineData(IoTHubErrorCode.GenericTooManyRequests, true)]
    [InlineData(IoTHubErrorCode.ThrottlingException, true)]
    [InlineData(IoTHubErrorCode.ThrottlingBacklogTimeout, true)]
    [InlineData(IoTHubErrorCode.DeviceThrottlingLimitExceeded, true)]
    [InlineData(IoTHubErrorCode.ServerError, true)]
    [InlineData(IoTHubErrorCode.ServiceUnavailable, true)]
    [InlineData(IoTHubErrorCode.RequestTimeout, true)]
    [InlineData(IoTHubErrorCode.DeviceNotFound, false)]
    [InlineData(IoTHubErrorCode.PreconditionFailed, false)]
    [InlineData(IoTHubErrorCode.ArgumentInvalid, false)]
    [InlineData(IoTHubErrorCode.IotHubUnauthorizedAccess, false)]
    [InlineData(IoTHubErrorCode.ServerBusy, false)]
    public void Transience_follows_the_csharp_v2_list(IoTHubErrorCode code, bool transient)
    {
        Assert.Equal(transient, IoTHubErrors.IsTransient(code));
    }

    [Fact]
    public void Status_based_transience_adds_429_and_5xx()
    {
        Assert.True(IoTHubErrors.IsTransient(IoTHubErrorCode.Unknown, 429));
        Assert.True(IoTHubErrors.IsTransient(IoTHubErrorCode.ServerBusy, 503));
        Assert.True(IoTHubErrors.IsTransient(IoTHubErrorCode.Unknown, 504));
        Assert.False(IoTHubErrors.IsTransient(IoTHubErrorCode.Unknown, 404));
        Assert.False(IoTHubErrors.IsTransient(IoTHubErrorCode.DeviceNotFound, 404));
    }

    [Fact]
    public void WriteClassic_has_the_hub_shape()
    {
        var json = IoTHubErrorEnvelope.WriteClassic(IoTHubErrorCode.PreconditionFailed, "PreconditionFailed, ETag may be invalid.", "abc123", Stamp);
        var obj = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(2, obj.Count);
        Assert.Equal("ErrorCode:PreconditionFailed;PreconditionFailed, ETag may be invalid.", (string?)obj["Message"]);
        Assert.Equal("Tracking ID:abc123-G:0-TimeStamp:08/15/2026 09:07:13", (string?)obj["ExceptionMessage"]);
    }

    [Fact]
    public void Classic_round_trip()
    {
        var json = IoTHubErrorEnvelope.WriteClassic(IoTHubErrorCode.DeviceNotFound, "sensor-thl-001", "06e0ab", Stamp);
        var info = IoTHubErrorEnvelope.Parse(404, null, json);
        Assert.Equal("DeviceNotFound", info.CodeName);
        Assert.Equal(404001, info.NumericCode);
        Assert.Equal(IoTHubErrorCode.DeviceNotFound, info.Code);
        Assert.Equal("sensor-thl-001", info.Message);
        Assert.Equal("06e0ab", info.TrackingId);
        Assert.Equal(404, info.HttpStatus);
        Assert.False(info.IsTransient);
    }

    [Fact]
    public void Numeric_round_trip()
    {
        var json = IoTHubErrorEnvelope.WriteNumeric(IoTHubErrorCode.ArgumentInvalid, "bad key", "tid1", Stamp);
        var obj = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(400004, (int)obj["errorCode"]!);
        Assert.Equal("2026-08-15T09:07:13.0000000Z", (string?)obj["timestampUtc"]);
        var info = IoTHubErrorEnvelope.Parse(400, null, json);
        Assert.Equal(400004, info.NumericCode);
        Assert.Equal("ArgumentInvalid", info.CodeName);
        Assert.Equal("bad key", info.Message);
        Assert.Equal("tid1", info.TrackingId);
    }

    [Fact]
    public void Parses_the_numeric_envelope_seen_for_modules()
    {
        const string body = "{\"errorCode\":409301,\"message\":\"Device dev1 already contains Module telemetry.\",\"trackingId\":\"t-9\",\"timestampUtc\":\"2026-08-15T09:07:36.7576Z\"}";
        var info = IoTHubErrorEnvelope.Parse(409, null, body);
        Assert.Equal(IoTHubErrorCode.ModuleAlreadyExistsOnDevice, info.Code);
        Assert.Equal("Device dev1 already contains Module telemetry.", info.Message);
        Assert.Equal("t-9", info.TrackingId);
    }

    [Fact]
    public void Parses_the_nested_envelope_as_a_string()
    {
        const string body = "{\"Message\":\"{\\\"errorCode\\\":404103,\\\"message\\\":\\\"Timed out waiting for device to connect; device isn't online.\\\",\\\"trackingId\\\":\\\"nest-1\\\",\\\"timestampUtc\\\":\\\"2026-01-01T00:00:00Z\\\",\\\"info\\\":null}\",\"ExceptionMessage\":\"\"}";
        var info = IoTHubErrorEnvelope.Parse(404, null, body);
        Assert.Equal(404103, info.NumericCode);
        Assert.Equal("DeviceNotOnline", info.CodeName);
        Assert.Equal("nest-1", info.TrackingId);
        Assert.Contains("isn't online", info.Message, StringComparison.Ordinal);
        Assert.True(info.IsTransient);
    }

    [Fact]
    public void Parses_the_nested_envelope_as_an_object()
    {
        const string body = "{\"Message\":{\"errorCode\":404103,\"message\":\"offline\",\"trackingId\":\"n2\"},\"ExceptionMessage\":\"\"}";
        var info = IoTHubErrorEnvelope.Parse(404, null, body);
        Assert.Equal(IoTHubErrorCode.DeviceNotOnline, info.Code);
        Assert.Equal("offline", info.Message);
    }

    [Fact]
    public void Header_code_wins_over_the_body()
    {
        var body = IoTHubErrorEnvelope.WriteClassic(IoTHubErrorCode.ThrottlingException, "slow down", "t", Stamp);
        var info = IoTHubErrorEnvelope.Parse(429, "ThrottlingBacklogTimeout", body);
        Assert.Equal("ThrottlingBacklogTimeout", info.CodeName);
        Assert.Equal(IoTHubErrorCode.ThrottlingBacklogTimeout, info.Code);
        Assert.Equal("slow down", info.Message);
        Assert.True(info.IsTransient);
    }

    [Fact]
    public void Classic_with_ISO_timestamp_and_empty_exception_message()
    {
        const string body = "{\"Message\":\"ErrorCode:DeviceAlreadyExists;A device with ID 'x' is already registered.\",\"ExceptionMessage\":\"Tracking ID:abc-TimeStamp:2026-08-15T09:07:36.7576Z\"}";
        var info = IoTHubErrorEnvelope.Parse(409, null, body);
        Assert.Equal(IoTHubErrorCode.DeviceAlreadyExists, info.Code);
        Assert.Equal("abc", info.TrackingId);

        var bare = IoTHubErrorEnvelope.Parse(400, null, "{\"Message\":\"ErrorCode:ArgumentInvalid;BadRequest\",\"ExceptionMessage\":\"\"}");
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, bare.Code);
        Assert.Equal("BadRequest", bare.Message);
        Assert.Null(bare.TrackingId);
    }

    [Fact]
    public void Loose_number_after_errorCode_in_text_is_found()
    {
        var info = IoTHubErrorEnvelope.Parse(500, null, "{\"Message\":\"something failed errorCode: 500001 inside\"}");
        Assert.Equal(500001, info.NumericCode);
        Assert.Equal(IoTHubErrorCode.ServerError, info.Code);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("<html>Bad gateway</html>")]
    [InlineData("{")]
    [InlineData("[1,2,3]")]
    [InlineData("\"just a string\"")]
    [InlineData("{\"Message\":42}")]
    [InlineData("{\"errorCode\":{\"x\":1}}")]
    [InlineData("{\"errorCode\":\"12\"}")]
    [InlineData("{\"Message\":\"{not json\"}")]
    [InlineData("{\"Message\":\"ErrorCode:;\"}")]
    public void Garbage_never_throws(string? body)
    {
        var info = IoTHubErrorEnvelope.Parse(502, null, body);
        Assert.Equal(502, info.HttpStatus);
        Assert.False(string.IsNullOrWhiteSpace(info.Message));
        Assert.NotNull(info.ToString());
    }

    [Fact]
    public void Header_alone_is_enough()
    {
        var info = IoTHubErrorEnvelope.Parse(404, "DeviceNotFound", null);
        Assert.Equal(IoTHubErrorCode.DeviceNotFound, info.Code);
        Assert.Equal(404001, info.NumericCode);
        var unknown = IoTHubErrorEnvelope.Parse(418, "SomethingNew", "teapot");
        Assert.Equal("SomethingNew", unknown.CodeName);
        Assert.Null(unknown.NumericCode);
        Assert.Equal(IoTHubErrorCode.Unknown, unknown.Code);
        Assert.Equal("teapot", unknown.Message);
    }

    [Fact]
    public void Tracking_ids_are_32_hex_and_distinct()
    {
        var a = IoTHubErrorEnvelope.NewTrackingId();
        Assert.Matches("^[0-9a-f]{32}$", a);
        Assert.NotEqual(a, IoTHubErrors.NewTrackingId());
    }

    [Fact]
    public void Protocol_exception_carries_code_and_status()
    {
        var ex = new IoTHubProtocolException(IoTHubErrorCode.PreconditionFailed, "etag mismatch");
        Assert.Equal(412, ex.HttpStatus);
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, new IoTHubProtocolException("x").Code);
    }
}
