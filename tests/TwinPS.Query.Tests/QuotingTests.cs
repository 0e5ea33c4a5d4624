using System.Globalization;
using System.Text.Json.Nodes;

namespace TwinPS.Query.Tests;

/// <summary>Values and paths built with QueryLiteral/QueryPath/QueryBuilder parse back as exactly what was given.</summary>
public class QuotingTests
{
    private static ConstantExpression SingleConstant(string whereText)
    {
        var query = IoTHubQuery.Parse("SELECT * FROM devices WHERE " + whereText);
        var comparison = Assert.IsType<BinaryExpression>(query.Where);
        Assert.Equal(BinaryOperator.Equal, comparison.Operator);
        Assert.IsType<PathExpression>(comparison.Left);
        return Assert.IsType<ConstantExpression>(comparison.Right);
    }

    [Theory]
    [InlineData("O'Brien", @"'O\'Brien'")]
    [InlineData("x' OR '1'='1", @"'x\' OR \'1\'=\'1'")]
    [InlineData(@"C:\temp\", @"'C:\\temp\\'")]
    [InlineData(@"\'", @"'\\\''")]
    [InlineData("say \"hi\"", "'say \"hi\"'")]
    [InlineData("line1\nline2\t\u0001", @"'line1\u000aline2\u0009\u0001'")]
    [InlineData("", "''")]
    public void Quote_escapes_quotes_backslashes_and_control_characters(string value, string expected)
    {
        Assert.Equal(expected, QueryLiteral.Quote(value));
    }

    [Theory]
    [InlineData("O'Brien")]
    [InlineData("x' OR '1'='1")]
    [InlineData("x' OR tags.a = 'b")]
    [InlineData("') OR (1=1")]
    [InlineData(@"back\slash\")]
    [InlineData(@"\\'\\")]
    [InlineData("double \" quote")]
    [InlineData("Grüße, 日本, emoji 🚀")]
    [InlineData("[[group]] ]] [[")]
    [InlineData("new\r\nline")]
    [InlineData("\u0000nul")]
    public void Quoted_value_round_trips_as_one_literal_and_matches_only_itself(string value)
    {
        var constant = SingleConstant("tags.owner = " + QueryLiteral.Quote(value));
        Assert.Equal(ConstantKind.String, constant.Kind);
        Assert.Equal(value, constant.Value);

        var match = new JsonObject { ["deviceId"] = "match", ["tags"] = new JsonObject { ["owner"] = value } };
        var other = new JsonObject { ["deviceId"] = "other", ["tags"] = new JsonObject { ["owner"] = "O", ["a"] = "b" } };
        var where = QueryBuilder.BuildWhere([("tags.owner", value)]);
        var rows = IoTHubQuery.Parse(QueryBuilder.SelectAll(QueryCollection.Devices, where)).Execute([match, other]).ToList();

        Assert.Equal([match], rows);
    }

    [Fact]
    public void Random_strings_round_trip_through_Quote()
    {
        var random = new Random(20261127);
        const string alphabet = "ab'\"\\[]. \n\t\r\u0001\u007f\u00e9\u65e5\ud83d\ude80()=<>!%*,0x";
        for (var n = 0; n < 2000; n++)
        {
            var value = new string(Enumerable.Range(0, random.Next(0, 20)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());

            var constant = SingleConstant("tags.v = " + QueryLiteral.Quote(value));

            Assert.Equal(value, constant.Value);
        }
    }

    [Fact]
    public void Format_writes_numbers_in_the_invariant_culture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            Assert.Equal("1.5", QueryLiteral.Format(1.5));
            Assert.Equal("1.25", QueryLiteral.Format(1.25m));
            Assert.Equal("0.1", QueryLiteral.Format(0.1f));
            Assert.Equal("-1234567", QueryLiteral.Format(-1234567));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [MemberData(nameof(FormattableValues))]
    public void Formatted_values_parse_back_to_the_same_constant(object? value, ConstantKind kind, object? expected)
    {
        var constant = SingleConstant("tags.v = " + QueryLiteral.Format(value));

        Assert.Equal(kind, constant.Kind);
        Assert.Equal(expected, constant.Value);
    }

    public static TheoryData<object?, ConstantKind, object?> FormattableValues() => new()
    {
        { null, ConstantKind.Null, null },
        { true, ConstantKind.Boolean, true },
        { false, ConstantKind.Boolean, false },
        { "O'Brien", ConstantKind.String, "O'Brien" },
        { 'q', ConstantKind.String, "q" },
        { 42, ConstantKind.Number, 42d },
        { -42L, ConstantKind.Number, -42d },
        { (byte)7, ConstantKind.Number, 7d },
        { 4503599627370495L, ConstantKind.Number, 4503599627370495d },
        { 1.5, ConstantKind.Number, 1.5 },
        { -0.001, ConstantKind.Number, -0.001 },
        { 1e20, ConstantKind.Number, 1e20 },
        { 1.5e-7, ConstantKind.Number, 1.5e-7 },
        { 2.5m, ConstantKind.Number, 2.5 },
        { JsonValue.Create(3), ConstantKind.Number, 3d },
        { JsonValue.Create("it's"), ConstantKind.String, "it's" },
    };

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Format_rejects_non_finite_numbers(double value)
    {
        Assert.Throws<ArgumentException>(() => QueryLiteral.Format(value));
        Assert.Throws<ArgumentException>(() => QueryLiteral.Format((float)value));
    }

    [Fact]
    public void Format_rejects_unsupported_types_naming_the_type()
    {
        var error = Assert.Throws<ArgumentException>(() => QueryLiteral.Format(new Uri("https://example.com")));
        Assert.Contains("System.Uri", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QueryLiteral.Format(new JsonObject { ["a"] = 1 }));
    }

    [Fact]
    public void Format_writes_sequences_as_array_constants()
    {
        Assert.Equal("['a', 'b\\'c', 1, true, null]", QueryLiteral.Format(new object?[] { "a", "b'c", 1, true, null }));
        Assert.Throws<ArgumentException>(() => QueryLiteral.Format(new object[] { new List<int> { 1 } }));
    }

    [Theory]
    [InlineData(new[] { "tags", "location", "plant" }, "tags.location.plant")]
    [InlineData(new[] { "tags", "group", "name" }, "tags.[[group]].name")]
    [InlineData(new[] { "tags", "Select" }, "tags.[[Select]]")]
    [InlineData(new[] { "tags", "my key" }, "tags.[[my key]]")]
    [InlineData(new[] { "tags", "my-key" }, "tags.[[my-key]]")]
    [InlineData(new[] { "tags", "1abc" }, "tags.[[1abc]]")]
    [InlineData(new[] { "tags", "étage" }, "tags.[[étage]]")]
    [InlineData(new[] { "properties", "desired", "$version" }, "properties.desired.$version")]
    [InlineData(new[] { "configurations", "my-config", "status" }, "configurations.[[my-config]].status")]
    [InlineData(new[] { "tags", "" }, "tags.[[]]")]
    [InlineData(new[] { "tags", "a]b" }, "tags.[[a]b]]")]
    [InlineData(new[] { "tags", "$" }, "tags.[[$]]")]
    public void Path_Format_quotes_only_where_needed_and_parses_back(string[] segments, string expected)
    {
        var text = QueryPath.Format(segments);

        Assert.Equal(expected, text);
        var query = IoTHubQuery.Parse($"SELECT * FROM devices WHERE {text} = 1");
        var path = Assert.IsType<PathExpression>(Assert.IsType<BinaryExpression>(query.Where).Left);
        Assert.Equal(segments, path.Path.Segments);
    }

    [Theory]
    [InlineData("a]]b")]
    [InlineData("a]")]
    [InlineData("]]")]
    public void Path_Format_rejects_segments_that_cannot_be_written(string segment)
    {
        var error = Assert.Throws<ArgumentException>(() => QueryPath.Format(["tags", segment]));
        Assert.Contains(segment, error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QueryPath.Format([]));
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("")]
    public void FormatDotted_rejects_empty_segments(string dotted)
    {
        var error = Assert.Throws<ArgumentException>(() => QueryPath.FormatDotted(dotted));
        Assert.Contains("empty segment", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_tag_hashtable_builds_a_safe_where_clause()
    {
        var where = QueryBuilder.BuildWhere("tags", [KeyValuePair.Create<string, object?>("location.plant", "Redmond43")]);

        Assert.Equal("tags.location.plant = 'Redmond43'", where);
        var t1 = JsonNode.Parse(SampleTwins.T1)!.AsObject();
        Assert.True(IoTHubQuery.Parse(QueryBuilder.SelectAll(QueryCollection.Devices, where)).Matches(t1));
    }

    [Fact]
    public void BuildWhere_joins_with_AND_and_handles_reserved_words_arrays_and_null()
    {
        var where = QueryBuilder.BuildWhere(
        [
            ("tags.group.name", "O'Brien"),
            ("properties.reported.count", 3),
            ("properties.desired.enabled", true),
            ("tags.env", new List<string> { "prod", "dev" }),
            ("tags.retired", null),
        ]);

        Assert.Equal(
            @"tags.[[group]].name = 'O\'Brien' AND properties.reported.count = 3 AND properties.desired.enabled = true AND tags.env IN ['prod', 'dev'] AND NOT IS_DEFINED(tags.retired)",
            where);

        var query = IoTHubQuery.Parse(QueryBuilder.SelectAll(QueryCollection.Modules, where));
        var twin = JsonNode.Parse("""{"tags":{"group":{"name":"O'Brien"},"env":"dev"},"properties":{"desired":{"enabled":true},"reported":{"count":3}}}""")!.AsObject();
        Assert.True(query.Matches(twin));
        twin["tags"]!["retired"] = "yes";
        Assert.False(query.Matches(twin));
        Assert.Equal(QueryCollection.Modules, query.Collection);
    }

    [Fact]
    public void BuildWhere_of_nothing_is_empty_and_SelectAll_then_has_no_WHERE()
    {
        Assert.Equal(string.Empty, QueryBuilder.BuildWhere([]));
        Assert.Equal("SELECT * FROM devices", QueryBuilder.SelectAll(QueryCollection.Devices, string.Empty));
        Assert.Equal("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'j'", QueryBuilder.SelectAll(QueryCollection.Jobs, QueryBuilder.Condition("devices.jobs.jobId", "j")));
    }

    [Fact]
    public void PropertyPath_ToString_is_query_syntax()
    {
        var query = IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.[[group]].[[a b]] = 1");
        var path = Assert.IsType<PathExpression>(Assert.IsType<BinaryExpression>(query.Where).Left).Path;

        Assert.Equal("tags.[[group]].[[a b]]", path.ToString());
    }
}
