using System.Text.Json.Nodes;
using static TwinPS.Query.Tests.SampleTwins;

namespace TwinPS.Query.Tests;

/// <summary>The docs-sourced test vectors D1–D18 of the reference (Part B.5).</summary>
public class DocumentedVectorTests
{
    [Fact]
    public void D1_select_star_returns_every_full_twin_document()
    {
        var documents = Load(Fleet);
        var query = IoTHubQuery.Parse("SELECT * FROM devices");

        var rows = query.Execute(documents).ToList();

        Assert.Equal(documents, rows);
        Assert.Same(documents[0], rows[0]);
        Assert.Equal(7, rows[0]["properties"]!["reported"]!["$version"]!.GetValue<int>());
        Assert.NotNull(rows[0]["properties"]!["desired"]!["$metadata"]);
        Assert.Equal("Twin", query.ResultItemType);
        Assert.Equal(QueryCollection.Devices, query.Collection);
        Assert.True(query.IsSelectAll);
    }

    [Fact]
    public void D2_tag_equality_selects_T1()
    {
        Assert.Equal(["myDeviceId"], Ids(Run("SELECT * FROM devices WHERE tags.location.region = 'US'", Fleet)));
    }

    [Fact]
    public void D3_tag_and_numeric_comparison_selects_T1()
    {
        Assert.Equal(["myDeviceId"], Ids(Run(
            "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
            Fleet)));
        Assert.Empty(Run(
            "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 301",
            Fleet));
    }

    [Fact]
    public void D4_is_defined_on_an_object_property()
    {
        Assert.Equal(["myDeviceId", "test-01", "keep1-a"], Ids(Run("SELECT * FROM devices WHERE is_defined(properties.reported.connectivity)", Fleet)));
    }

    [Fact]
    public void D5_in_does_not_match_an_object_value()
    {
        // T1's connectivity is the object {"type":"cellular"}; the other two are the strings "wifi" and "wired".
        Assert.Equal(["test-01", "keep1-a"], Ids(Run("SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired','wifi']", Fleet)));
    }

    [Fact]
    public void D6_group_by_counts_each_status()
    {
        var query = IoTHubQuery.Parse(
            "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices FROM devices GROUP BY properties.reported.telemetryConfig.status");

        var rows = query.Execute(Load(TelemetryStatuses)).ToList();

        Assert.Equal(
            Canonical("""{"numberOfDevices":3,"status":"Success"}""", """{"numberOfDevices":2,"status":"Pending"}""", """{"numberOfDevices":1,"status":"Error"}"""),
            Canonical(rows));
        Assert.Equal("Raw", query.ResultItemType);
        Assert.True(query.HasAggregates);
        Assert.Equal(["properties", "reported", "telemetryConfig", "status"], query.GroupBy.Single().Segments);
    }

    [Fact]
    public void D7_count_without_group_by_gives_one_row()
    {
        Assert.Equal(Canonical("""{"totalNumberOfDevices":6}"""), Canonical(Run("SELECT COUNT() as totalNumberOfDevices FROM devices", Fleet)));
    }

    [Fact]
    public void D8_identity_fields_come_back_under_camelCase_names()
    {
        var rows = Run("SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Disconnected'", ActivityHub);

        Assert.Equal(Canonical("""{"deviceId":"AZ3166Device","lastActivityTime":"2021-05-07T00:50:38.0543092Z"}"""), Canonical(rows));
        Assert.Equal(["deviceId", "lastActivityTime"], rows[0].Select(p => p.Key));
    }

    [Fact]
    public void D9_modules_query_returns_module_twins_with_moduleId()
    {
        var query = IoTHubQuery.Parse("SELECT * FROM devices.modules");
        var rows = query.Execute(Load(Modules)).ToList();

        Assert.Equal(QueryCollection.Modules, query.Collection);
        Assert.Equal("Twin", query.ResultItemType);
        Assert.Equal(Modules.Length, rows.Count);
        Assert.All(rows, r => Assert.NotNull(r["moduleId"]));
    }

    [Fact]
    public void D10_modules_filtered_by_reported_status_and_device_list()
    {
        var rows = Run("SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning' AND deviceId IN ['device1','device2']", Modules);

        Assert.Equal(["device1/scanner", "device2/scanner"], rows.Select(r => $"{r["deviceId"]}/{r["moduleId"]}"));
    }

    [Fact]
    public void D11_group_needs_bracket_quoting()
    {
        Assert.Equal(["test-01"], Ids(Run("SELECT * FROM devices WHERE tags.[[group]].name = 'some_value'", Fleet)));

        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.group.name = 'some_value'"));
        Assert.Equal("group", error.Token);
        Assert.Equal(33, error.Position);
        Assert.Contains("[[group]]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void D12_configuration_status_with_bracket_quoted_id()
    {
        var rows = Run("SELECT deviceId FROM devices WHERE configurations.[[myconfig]].status = 'Applied'", Fleet);

        Assert.Equal(Canonical("""{"deviceId":"test-01"}"""), Canonical(rows));
    }

    [Fact]
    public void D13_edge_agent_query_compares_two_paths_including_dollar_version()
    {
        var query = IoTHubQuery.Parse(
            "SELECT deviceId FROM devices.modules WHERE moduleId='$edgeAgent' AND properties.desired.$version = properties.reported.lastDesiredVersion AND properties.reported.lastDesiredStatus.code != 200");

        var rows = query.Execute(Load(Modules)).ToList();

        Assert.Equal(Canonical("""{"deviceId":"edge1"}"""), Canonical(rows));
        var and = Assert.IsType<LogicalExpression>(query.Where);
        var versions = Assert.IsType<BinaryExpression>(and.Operands[1]);
        Assert.Equal(["properties", "desired", "$version"], Assert.IsType<PathExpression>(versions.Left).Path.Segments);
    }

    [Fact]
    public void D14_device_jobs_by_prefixed_device_id()
    {
        var query = IoTHubQuery.Parse("SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'myDeviceId'");

        var rows = query.Execute(Load(DeviceJobs)).ToList();

        Assert.Equal(["job1", "job2"], rows.Select(r => (string)r["jobId"]!));
        Assert.Equal("DeviceJob", query.ResultItemType);
        Assert.Equal(QueryCollection.Jobs, query.Collection);
    }

    [Theory]
    [InlineData("SELECT deviceId FROM devices.jobs", "SELECT *")]
    [InlineData("SELECT COUNT() AS n FROM devices.jobs", "SELECT *")]
    [InlineData("SELECT * FROM devices.jobs WHERE deviceId = 'x'", "devices.jobs.")]
    [InlineData("SELECT * FROM devices.jobs WHERE devices.jobs = 'x'", "devices.jobs.")]
    [InlineData("SELECT * FROM devices.jobs GROUP BY devices.jobs.status", "GROUP BY")]
    public void D14_device_jobs_allow_only_select_star_and_prefixed_conditions(string text, string expectedInMessage)
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));
        Assert.Contains(expectedInMessage, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void D15_routing_function_STARTS_WITH_is_rejected_with_its_position()
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse("SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'test')"));

        Assert.Equal(28, error.Position);
        Assert.Equal(29, error.Column);
        Assert.Equal("STARTS_WITH", error.Token);
        Assert.Contains("STARTS_WITH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void D16_STARTSWITH_is_a_case_sensitive_prefix_test()
    {
        Assert.Equal(["test-01", "test-02"], Ids(Run("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'test')", Fleet)));
    }

    [Fact]
    public void D17_lower_case_count_gives_one_row()
    {
        Assert.Equal(Canonical("""{"numberOfDevices":6}"""), Canonical(Run("select count() AS numberOfDevices from devices", Fleet)));
    }

    [Fact]
    public void D18_not_startswith_excludes_both_prefixes()
    {
        var rows = Run("select deviceId from devices where not startswith(deviceId, 'keep1') and not startswith(deviceId, 'keep2')", Fleet);

        Assert.Equal(
            Canonical("""{"deviceId":"myDeviceId"}""", """{"deviceId":"test-01"}""", """{"deviceId":"test-02"}""", """{"deviceId":"Test-03"}"""),
            Canonical(rows));
    }
}
