using System.Text.Json.Nodes;
using static TwinPS.Query.Tests.SampleTwins;

namespace TwinPS.Query.Tests;

/// <summary>Evaluation rules beyond the reference's vectors: operators, three-valued logic, projection, TOP, aggregates.</summary>
public class EvaluationTests
{
    private static readonly string[] Mixed =
    [
        """{"deviceId":"n1","capabilities":{"iotEdge":true},"lastActivityTime":"2021-05-07T00:50:38Z","tags":{"n":7,"s":"b","nul":null,"arr":[1,2],"obj":{"k":1}}}""",
        """{"deviceId":"n2","capabilities":{"iotEdge":false},"lastActivityTime":"2019-01-01T00:00:00Z","tags":{"n":-3.5,"s":"a"}}""",
        """{"deviceId":"n3","tags":{"n":"7","s":"c"}}""",
    ];

    [Theory]
    [InlineData("tags.n * 2 = 14", "n1")]
    [InlineData("tags.n % 4 = 3", "n1")]
    [InlineData("tags.n / 2 = -1.75", "n2")]
    [InlineData("tags.n + 1 > 0 AND tags.n - 1 < 7", "n1")]
    [InlineData("-tags.n = 3.5", "n2")]
    [InlineData("tags.n / 0 = 0", "")]
    [InlineData("tags.s + 1 = 1", "")]
    [InlineData("tags.n > 0", "n1")]
    [InlineData("tags.n <= -3.5", "n2")]
    [InlineData("tags.s < 'b'", "n2")]
    [InlineData("tags.s >= 'b'", "n1,n3")]
    [InlineData("lastActivityTime > '2021-01-01'", "n1")]
    [InlineData("capabilities.iotEdge = true", "n1")]
    [InlineData("capabilities.iotEdge != true", "n2")]
    [InlineData("capabilities.iotEdge < true", "")]
    [InlineData("tags.nul = null", "n1")]
    [InlineData("tags.n = null", "")]
    [InlineData("IS_DEFINED(tags.nul)", "n1")]
    [InlineData("tags.arr = [1,2]", "")]
    [InlineData("tags.obj = tags.obj", "")]
    [InlineData("tags.obj.k = 1", "n1")]
    [InlineData("tags.n IN [7, -3.5]", "n1,n2")]
    [InlineData("tags.n IN ['7']", "n3")]
    [InlineData("tags.n NIN [7]", "n2,n3")]
    [InlineData("tags.obj IN [1]", "")]
    [InlineData("tags.obj NIN [1]", "")]
    [InlineData("tags.missing = undefined", "")]
    [InlineData("NOT (tags.n = 7)", "n2")] // n3 holds the string "7": undefined, and NOT undefined is undefined
    [InlineData("NOT (tags.nothing = 7)", "")]
    [InlineData("tags.nothing = 1 OR deviceId = 'n3'", "n3")]
    [InlineData("tags.nothing = 1 AND deviceId = 'n3'", "")]
    [InlineData("NOT (tags.nothing = 1 AND deviceId = 'n3')", "n1,n2")]
    [InlineData("true", "n1,n2,n3")]
    [InlineData("false OR deviceId = 'n2'", "n2")]
    [InlineData("1", "")]
    [InlineData("tags.s", "")]
    [InlineData("ENDSWITH(deviceId, '3')", "n3")]
    [InlineData("endsWith(deviceId, 'N3')", "")]
    [InlineData("STARTSWITH(tags.n, '7')", "n3")]
    [InlineData("STARTSWITH(tags.n, 7)", "")]
    [InlineData("STARTSWITH(deviceId, tags.s)", "")]
    [InlineData("deviceId = 'n1' OR deviceId = 'n2' AND tags.s = 'a'", "n1,n2")]
    [InlineData("(deviceId = 'n1' OR deviceId = 'n2') AND tags.s = 'a'", "n2")]
    [InlineData("tags.n = 0x7", "n1")]
    [InlineData("tags.n = 7.0", "n1")]
    [InlineData("tags.n = 0.7e1", "n1")]
    public void Where_condition_selects_expected_twins(string condition, string expectedIds)
    {
        var ids = Ids(Run("SELECT * FROM devices WHERE " + condition, Mixed));

        Assert.Equal(expectedIds, string.Join(',', ids));
    }

    [Fact]
    public void Values_held_as_CLR_numbers_and_strings_compare_like_parsed_ones()
    {
        var twin = new JsonObject
        {
            ["deviceId"] = "clr",
            ["tags"] = new JsonObject { ["i"] = 20, ["l"] = 20L, ["d"] = 20.0, ["m"] = 20m, ["f"] = 20f, ["b"] = (byte)20, ["s"] = "20", ["t"] = true },
        };
        var query = IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.i = 20 AND tags.l = 20 AND tags.d = 20 AND tags.m = 20 AND tags.f = 20 AND tags.b = 0x14 AND tags.s = '20' AND tags.t = true");

        Assert.True(query.Matches(twin));
    }

    [Fact]
    public void Property_names_match_ignoring_case_but_an_exact_spelling_wins()
    {
        var twin = JsonNode.Parse("""{"deviceId":"x","tags":{"Env":"upper","env":"lower"}}""")!.AsObject();

        Assert.True(IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.env = 'lower'").Matches(twin));
        Assert.True(IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.Env = 'upper'").Matches(twin));
        Assert.True(IoTHubQuery.Parse("SELECT * FROM devices WHERE TAGS.ENV = 'upper'").Matches(twin));
    }

    [Fact]
    public void Top_is_applied_after_where()
    {
        var rows = Run("SELECT TOP 1 deviceId FROM devices WHERE tags.env = 'dev'", Abc);

        Assert.Equal(Canonical("""{"deviceId":"b2"}"""), Canonical(rows));
        Assert.Equal(2, Run("SELECT TOP 2 * FROM devices", Abc).Count);
        Assert.Empty(Run("SELECT TOP 0 * FROM devices", Abc));
        Assert.Equal(3, Run("SELECT TOP 100 * FROM devices", Abc).Count);
        Assert.Equal(2, IoTHubQuery.Parse("SELECT TOP (2) * FROM devices").Top);
    }

    [Fact]
    public void Execute_streams_lazily_for_non_aggregate_queries()
    {
        static IEnumerable<JsonObject> Endless()
        {
            for (var i = 0; ; i++)
            {
                yield return new JsonObject { ["deviceId"] = "d" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), ["tags"] = new JsonObject { ["even"] = i % 2 == 0 } };
            }
        }

        var first = IoTHubQuery.Parse("SELECT deviceId FROM devices WHERE tags.even = false").Execute(Endless()).Take(3).ToList();
        var topped = IoTHubQuery.Parse("SELECT TOP 2 * FROM devices").Execute(Endless()).ToList();

        Assert.Equal(["d1", "d3", "d5"], Ids(first));
        Assert.Equal(2, topped.Count);
    }

    [Fact]
    public void Projection_clones_values_keeps_alias_case_and_leaves_out_missing_properties()
    {
        var documents = Load(Abc);
        var query = IoTHubQuery.Parse("SELECT deviceId AS Id, TAGS, properties.reported.TEMP, properties.desired.$version FROM devices");

        var rows = query.Execute(documents).ToList();

        Assert.Equal(
            Canonical(
                """{"Id":"a1","tags":{"env":"prod"},"temp":20,"$version":1}""",
                """{"Id":"b2","tags":{"env":"dev"},"$version":1}""",
                """{"Id":"c3","tags":{},"temp":"20","$version":1}"""),
            Canonical(rows));
        rows[0]["tags"]!["env"] = "changed";
        Assert.Equal("prod", (string)documents[0]["tags"]!["env"]!);
        Assert.Equal("Raw", query.ResultItemType);
        Assert.Equal(["Id", "TAGS", "TEMP", "$version"], query.SelectItems.Select(i => i.OutputName));
    }

    [Fact]
    public void Identity_fields_use_canonical_names_even_when_the_document_spells_them_differently()
    {
        var twin = JsonNode.Parse("""{"deviceId":"x","ConnectionState":"Connected","x509Thumbprint":{"PrimaryThumbprint":"AB"},"capabilities":{"iotEdge":true}}""")!.AsObject();

        var row = IoTHubQuery.Parse("SELECT DEVICEID, connectionstate, X509THUMBPRINT.primarythumbprint, Capabilities.IotEdge FROM devices").Project(twin);

        Assert.Equal("""{"deviceId":"x","connectionState":"Connected","primaryThumbprint":"AB","iotEdge":true}""", row.ToJsonString());
    }

    [Fact]
    public void Project_and_Matches_cover_the_documented_edge_cases()
    {
        var twin = Load(Abc)[0];

        Assert.Same(twin, IoTHubQuery.Parse("SELECT * FROM devices").Project(twin));
        Assert.True(IoTHubQuery.Parse("SELECT deviceId FROM devices").Matches(twin));
        Assert.Throws<InvalidOperationException>(() => IoTHubQuery.Parse("SELECT COUNT() AS n FROM devices").Project(twin));
        Assert.Throws<ArgumentNullException>(() => IoTHubQuery.Parse("SELECT * FROM devices").Matches(null!));
    }

    [Fact]
    public void Module_query_projects_moduleId()
    {
        var rows = Run("SELECT deviceId, moduleId FROM devices.modules WHERE moduleId = 'scanner' AND deviceId = 'device2'", Modules);

        Assert.Equal(Canonical("""{"deviceId":"device2","moduleId":"scanner"}"""), Canonical(rows));
    }

    [Fact]
    public void Sum_avg_min_max_use_documented_rules()
    {
        var rows = Run("SELECT SUM(properties.reported.temp) AS s, AVG(properties.reported.temp) AS a, MIN(properties.reported.temp) AS lo, MAX(properties.reported.temp) AS hi, COUNT() AS n FROM devices", Abc);

        // temp is 20 (a1), missing (b2), "20" (c3): SUM/AVG use numbers only; MIN/MAX order numbers before strings.
        Assert.Equal(Canonical("""{"s":20,"a":20,"lo":20,"hi":"20","n":3}"""), Canonical(rows));
    }

    [Fact]
    public void Min_and_max_of_strings_compare_ordinally()
    {
        var rows = Run("SELECT MIN(lastActivityTime) AS first, MAX(lastActivityTime) AS last FROM devices", ActivityHub);

        Assert.Equal(Canonical("""{"first":"2020-01-01T00:00:00.0000000Z","last":"2021-05-08T10:00:00.0000000Z"}"""), Canonical(rows));
    }

    [Fact]
    public void Aggregates_over_no_matching_twins()
    {
        Assert.Equal(
            Canonical("""{"n":0,"s":0}"""),
            Canonical(Run("SELECT COUNT() AS n, SUM(properties.reported.temp) AS s, AVG(properties.reported.temp) AS a, MAX(deviceId) AS m FROM devices WHERE deviceId = 'none'", Abc)));
        Assert.Empty(Run("SELECT tags.env AS env, COUNT() AS n FROM devices WHERE deviceId = 'none' GROUP BY tags.env", Abc));
    }

    [Fact]
    public void Unaliased_aggregates_and_group_values_get_default_names()
    {
        var rows = Run("SELECT tags.env, COUNT() FROM devices WHERE IS_DEFINED(tags.env) GROUP BY tags.env", Abc);

        Assert.Equal(Canonical("""{"env":"prod","count":1}""", """{"env":"dev","count":1}"""), Canonical(rows));
    }

    [Fact]
    public void Group_by_without_aggregates_gives_distinct_values_and_top_limits_groups()
    {
        Assert.Equal(
            Canonical("""{"status":"Success"}""", """{"status":"Pending"}""", """{"status":"Error"}"""),
            Canonical(Run("SELECT properties.reported.telemetryConfig.status FROM devices GROUP BY properties.reported.telemetryConfig.status", TelemetryStatuses)));
        Assert.Single(Run("SELECT TOP 1 properties.reported.telemetryConfig.status AS s, COUNT() AS n FROM devices GROUP BY properties.reported.telemetryConfig.status", TelemetryStatuses));
    }

    [Fact]
    public void Group_by_several_paths_and_value_types()
    {
        string[] twins =
        [
            """{"deviceId":"1","tags":{"a":1,"b":"x"}}""",
            """{"deviceId":"2","tags":{"a":1,"b":"x"}}""",
            """{"deviceId":"3","tags":{"a":"1","b":"x"}}""",
            """{"deviceId":"4","tags":{"a":1,"b":"y"}}""",
            """{"deviceId":"5","tags":{"a":true}}""",
        ];

        var rows = Run("SELECT tags.a AS a, tags.b AS b, COUNT() AS n FROM devices GROUP BY tags.a, tags.b", twins);

        Assert.Equal(
            Canonical("""{"a":1,"b":"x","n":2}""", """{"a":"1","b":"x","n":1}""", """{"a":1,"b":"y","n":1}""", """{"a":true,"n":1}"""),
            Canonical(rows));
    }

    [Fact]
    public void Parsed_query_evaluates_safely_in_parallel()
    {
        var query = IoTHubQuery.Parse("SELECT deviceId FROM devices WHERE tags.env = 'prod' OR properties.reported.temp = '20'");
        var documents = Enumerable.Range(0, 200).SelectMany(_ => Load(Abc)).ToList();

        var matches = documents.AsParallel().Count(query.Matches);

        Assert.Equal(400, matches);
    }
}

/// <summary>Bare conditions, as in a job's queryCondition or a configuration's targetCondition.</summary>
public class ConditionTests
{
    [Theory]
    [InlineData("deviceId IN ['a1','c3']", "a1,c3")]
    [InlineData("tags.env = 'prod' OR NOT IS_DEFINED(tags.env)", "a1,c3")]
    [InlineData("*", "a1,b2,c3")]
    [InlineData("", "a1,b2,c3")]
    [InlineData("  ", "a1,b2,c3")]
    public void Condition_selects_device_twins(string condition, string expectedIds)
    {
        var query = IoTHubQuery.ParseCondition(condition);

        Assert.Equal(expectedIds, string.Join(',', SampleTwins.Ids(query.Execute(SampleTwins.Load(SampleTwins.Abc)))));
        Assert.Equal(QueryCollection.Devices, query.Collection);
        Assert.True(query.IsSelectAll);
    }

    [Theory]
    [InlineData("tags.env = 'prod' garbage", 18, "garbage")]
    [InlineData("tags.group = 1", 5, "group")]
    [InlineData("* AND tags.x = 1", 0, "*")]
    [InlineData("STARTS_WITH(deviceId, 'a')", 0, "STARTS_WITH")]
    public void Condition_errors_point_into_the_condition_text(string condition, int position, string token)
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.ParseCondition(condition));

        Assert.Equal(position, error.Position);
        Assert.Equal(token, error.Token);
    }
}

/// <summary>Documents assembled from JSON values that wrap elements (as a store may build them).</summary>
public class WrappedValueTests
{
    [Fact]
    public void Values_wrapping_json_elements_are_typed_by_their_element()
    {
        using var json = System.Text.Json.JsonDocument.Parse("""{"obj":{"k":1},"arr":[1],"s":"x","n":5,"t":true}""");
        var tags = new JsonObject();
        foreach (var property in json.RootElement.EnumerateObject())
        {
            var element = property.Value.Clone();
            tags[property.Name] = element.ValueKind switch
            {
                System.Text.Json.JsonValueKind.Object => JsonObject.Create(element),
                System.Text.Json.JsonValueKind.Array => JsonArray.Create(element),
                _ => JsonValue.Create(element),
            };
        }

        var twin = new JsonObject { ["deviceId"] = "w", ["tags"] = tags };

        Assert.True(IoTHubQuery.Parse("SELECT * FROM devices WHERE IS_DEFINED(tags.obj) AND IS_DEFINED(tags.arr) AND tags.s = 'x' AND tags.n = 5 AND tags.t = true").Matches(twin));
        Assert.False(IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.obj IN [1]").Matches(twin));
        Assert.Equal("""{"obj":{"k":1}}""", IoTHubQuery.Parse("SELECT tags.obj FROM devices").Project(twin).ToJsonString());
    }
}
