using System.Text.Json.Nodes;

namespace TwinPS.Query.Tests;

/// <summary><see cref="ParsedQuery.ToCountQuery"/>: the COUNT() form of a plain SELECT * keeps FROM and WHERE as written.</summary>
public class CountQueryTests
{
    [Theory]
    [InlineData("SELECT * FROM devices", "SELECT COUNT() AS total FROM devices")]
    [InlineData("select * from devices.modules where properties.reported.status = 'ok'",
        "SELECT COUNT() AS total from devices.modules where properties.reported.status = 'ok'")]
    [InlineData("  SELECT   *   FROM devices WHERE tags.name = 'SELECT * FROM x'",
        "SELECT COUNT() AS total FROM devices WHERE tags.name = 'SELECT * FROM x'")]
    [InlineData("SELECT*FROM devices WHERE tags.floor > 2", "SELECT COUNT() AS total FROM devices WHERE tags.floor > 2")]
    [InlineData("SELECT * FROM\tdevices\nWHERE\ttags.a = 1", "SELECT COUNT() AS total FROM\tdevices\nWHERE\ttags.a = 1")]
    public void A_plain_select_all_counts_the_same_collection_and_condition(string query, string expected)
    {
        Assert.Equal(expected, IoTHubQuery.Parse(query).ToCountQuery());
        Assert.Equal(expected.Replace("AS total", "AS n", StringComparison.Ordinal), IoTHubQuery.Parse(query).ToCountQuery("n"));
    }

    [Theory]
    [InlineData("SELECT TOP 5 * FROM devices")]
    [InlineData("SELECT deviceId FROM devices")]
    [InlineData("SELECT COUNT() AS n FROM devices")]
    [InlineData("SELECT tags.a, COUNT() AS n FROM devices GROUP BY tags.a")]
    [InlineData("SELECT * FROM devices.jobs")]
    public void Other_queries_have_no_count_form(string query) => Assert.Null(IoTHubQuery.Parse(query).ToCountQuery());

    [Fact]
    public void A_bare_condition_has_no_count_form() => Assert.Null(IoTHubQuery.ParseCondition("tags.a = 1").ToCountQuery());

    [Theory]
    [InlineData("")]
    [InlineData("1n")]
    [InlineData("n FROM x")]
    [InlineData("a-b")]
    public void The_alias_must_be_a_plain_name(string alias) =>
        Assert.ThrowsAny<ArgumentException>(() => IoTHubQuery.Parse("SELECT * FROM devices").ToCountQuery(alias));

    [Theory]
    [InlineData("SELECT * FROM devices")]
    [InlineData("SELECT * FROM devices WHERE tags.location.region = 'US'")]
    [InlineData("SELECT * FROM devices WHERE properties.reported.connectivity.type = 'cellular' OR tags.location.region = 'US'")]
    public void The_count_form_counts_the_rows_of_the_query(string query)
    {
        var rows = SampleTwins.Run(query, SampleTwins.Fleet).Count;
        var count = SampleTwins.Run(IoTHubQuery.Parse(query).ToCountQuery()!, SampleTwins.Fleet);

        var row = Assert.Single(count);
        Assert.Equal(rows, row["total"]!.GetValue<long>());
    }
}
