using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public sealed class JobRequestTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static JobRequest Parse(string json, string id = "job-1") => JobRequest.Parse(id, (JsonObject)JsonNode.Parse(json)!, Now);

    private static IoTHubErrorCode Error(string json, string id = "job-1") =>
        Assert.ThrowsAny<IoTHubProtocolException>(() => Parse(json, id)).Code;

    [Fact]
    public void A_twin_job_as_the_Node_SDK_sends_it_gets_the_defaults()
    {
        JobRequest r = Parse("""{"jobId":"job-1","type":"scheduleUpdateTwin","updateTwin":{"etag":"*","tags":{"a":1}},"startTime":null,"queryCondition":"deviceId IN ['d1']"}""");

        Assert.Equal(JobTypes.ScheduleUpdateTwin, r.Type);
        Assert.Null(r.StartTime);
        Assert.Equal(3600, r.MaxExecutionTimeInSeconds);
        Assert.Equal(1, (int)r.UpdateTwin!["tags"]!["a"]!);
    }

    [Fact]
    public void A_method_job_carries_a_validated_method_and_a_start_time_without_offset_is_UTC()
    {
        JobRequest r = Parse("""{"type":"scheduleDeviceMethod","queryCondition":"*","cloudToDeviceMethod":{"methodName":"reboot","payload":null,"responseTimeoutInSeconds":30},"startTime":"2026-03-01T02:00:00","maxExecutionTimeInSeconds":120}""");

        Assert.Equal("reboot", r.CloudToDeviceMethod!.MethodName);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 2, 0, 0, TimeSpan.Zero), r.StartTime);
        Assert.Equal(120, r.MaxExecutionTimeInSeconds);
    }

    [Theory]
    [InlineData("""{"type":"scheduleTwinUpdate","queryCondition":"*"}""", IoTHubErrorCode.GenericBadRequest)]
    [InlineData("""{"type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"AAAAAAAAAAE="}}""", IoTHubErrorCode.PreconditionFailed)]
    [InlineData("""{"type":"scheduleUpdateTwin","queryCondition":"*"}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"type":"scheduleUpdateTwin","updateTwin":{"etag":"*"}}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"*"},"startTime":"2026-03-09T00:00:01Z"}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"*"},"startTime":"tomorrow"}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"*"},"maxExecutionTimeInSeconds":-5}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"*","properties":{"reported":{"x":1}}}}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"jobId":"other","type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"*"}}""", IoTHubErrorCode.ArgumentInvalid)]
    [InlineData("""{"type":"scheduleDeviceMethod","queryCondition":"*","cloudToDeviceMethod":{"methodName":"m","responseTimeoutInSeconds":500}}""", IoTHubErrorCode.ArgumentInvalid)]
    public void Bad_bodies_get_the_hubs_answer(string json, IoTHubErrorCode expected) => Assert.Equal(expected, Error(json));

    [Fact]
    public void Ids_and_long_conditions_are_checked_and_an_invalid_condition_is_not()
    {
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, Error("""{"type":"scheduleUpdateTwin","queryCondition":"*","updateTwin":{"etag":"*"}}""", "Job_1"));
        string longCondition = "deviceId = '" + new string('x', 8200) + "'";
        Assert.Equal(IoTHubErrorCode.PreconditionFailed, Error(new JsonObject { ["type"] = "scheduleUpdateTwin", ["queryCondition"] = longCondition, ["updateTwin"] = new JsonObject { ["etag"] = "*" } }.ToJsonString()));
        Assert.Equal("tags.x = = 1", Parse("""{"type":"scheduleUpdateTwin","queryCondition":"tags.x = = 1","updateTwin":{"etag":null,"deviceId":null,"version":null,"properties":{"desired":{},"reported":{}}}}""").QueryCondition);
    }

    [Fact]
    public void Slots_per_tier()
    {
        Assert.Equal(1, JobLimits.ConcurrentJobSlots("F1"));
        Assert.Equal(1, JobLimits.ConcurrentJobSlots("s1"));
        Assert.Equal(5, JobLimits.ConcurrentJobSlots("S2"));
        Assert.Equal(10, JobLimits.ConcurrentJobSlots("S3"));
        Assert.Null(JobLimits.ConcurrentJobSlots("B1"));
    }
}
