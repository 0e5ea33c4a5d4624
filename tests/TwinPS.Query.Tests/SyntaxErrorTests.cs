namespace TwinPS.Query.Tests;

/// <summary>Malformed queries give a QuerySyntaxException that points at the offending token.</summary>
public class SyntaxErrorTests
{
    [Theory]
    // text, position, token, words expected in the message
    [InlineData("SELECT deviceId, lastActivity FORM devices", 30, "FORM", "expected FROM")]
    [InlineData("SELECT * WHERE deviceId = 'a'", 9, "WHERE", "expected FROM")]
    [InlineData("SELECT *", 8, "end of query", "expected FROM")]
    [InlineData("SELECT * FROM twins", 14, "twins", "expected devices")]
    [InlineData("SELECT * FROM devices.configurations", 22, "configurations", "modules or jobs")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'abc", 39, "'abc", "unterminated string")]
    [InlineData("SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'a')", 28, "STARTS_WITH", "STARTS_WITH")]
    [InlineData("SELECT * FROM devices WHERE CONTAINS(deviceId, 'a')", 28, "CONTAINS", "CONTAINS")]
    [InlineData("SELECT * FROM devices WHERE FOO(deviceId)", 28, "FOO", "unknown function 'FOO'")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'a' garbage", 43, "garbage", "expected AND, OR, GROUP BY or end of query")]
    [InlineData("SELECT * FROM devices WHERE (deviceId = 'a'", 43, "end of query", "expected ')'")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'a')", 42, ")", "end of query")]
    [InlineData("SELECT * FROM devices WHERE tags.group = 'x'", 33, "group", "[[group]]")]
    [InlineData("SELECT * FROM devices WHERE tags.[[group = 'x'", 33, "[[group = 'x'", "unterminated [[name]]")]
    [InlineData("SELECT * FROM devices WHERE tags.x]] = 'x'", 34, "]", "expected AND, OR")]
    [InlineData("SELECT * FROM devices WHERE", 27, "end of query", "expected an expression")]
    [InlineData("SELECT * FROM devices WHERE deviceId IN ('a','b')", 40, "(", "square brackets")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'a' ORDER BY deviceId", 43, "ORDER", "ORDER BY is not supported")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'a\\q'", 41, "\\q", "invalid escape")]
    [InlineData("SELECT * FROM devices WHERE deviceId = '\\u12'", 40, "\\u12'", "four hexadecimal digits")]
    [InlineData("SELECT * FROM devices WHERE tags.x = 12abc", 37, "12abc", "invalid number")]
    [InlineData("SELECT * FROM devices WHERE tags.x = 0x", 37, "0x", "hexadecimal")]
    [InlineData("SELECT * FROM devices WHERE tags.x # 1", 35, "#", "unexpected character '#'")]
    [InlineData("SELECT * FROM devices WHERE tags. = 1", 34, "=", "expected a property name")]
    [InlineData("SELECT * FROM devices WHERE COUNT() > 1", 28, "COUNT", "only in the SELECT list")]
    [InlineData("SELECT * FROM devices WHERE IS_DEFINED(tags.a, tags.b)", 28, "IS_DEFINED(tags.a, tags.b)", "takes 1 argument")]
    [InlineData("SELECT * FROM devices WHERE STARTSWITH(deviceId)", 28, "STARTSWITH(deviceId)", "takes 2 arguments")]
    [InlineData("SELECT COUNT(*) FROM devices", 13, "*", "COUNT()")]
    [InlineData("SELECT SUM() FROM devices", 11, ")", "needs a property path")]
    [InlineData("SELECT *, deviceId FROM devices", 8, ",", "cannot be combined")]
    [InlineData("SELECT deviceId, * FROM devices", 17, "*", "cannot be combined")]
    [InlineData("SELECT TOP -1 * FROM devices", 11, "-", "whole number")]
    [InlineData("SELECT TOP 1.5 * FROM devices", 11, "1.5", "whole number")]
    [InlineData("SELECT status, COUNT() FROM devices", 7, "status", "must be in GROUP BY")]
    [InlineData("SELECT * FROM devices GROUP BY status", 22, "GROUP", "SELECT *")]
    [InlineData("SELECT tags.x, properties.reported.x FROM devices", 15, "p", "both named 'x'")]
    [InlineData("SELECT deviceId AS group FROM devices", 19, "group", "reserved word")]
    [InlineData("", 0, "end of query", "empty")]
    [InlineData("DELETE FROM devices", 0, "DELETE", "expected SELECT")]
    [InlineData("SELECT * FROM devices WHERE deviceId = 'a' AND", 46, "end of query", "expected an expression")]
    [InlineData("SELECT * FROM devices WHERE x = 1 = 2", 34, "=", "expected AND, OR")]
    [InlineData("SELECT * FROM devices WHERE deviceId != 'a' !", 44, "!", "unexpected character '!'")]
    [InlineData("SELECT * FROM devices WHERE deviceId IN ['a', tags.x]", 46, "tags", "only constants")]
    [InlineData("SELECT * FROM devices WHERE $ = 1", 28, "$", "'$' must be followed by a name")]
    public void Malformed_query_reports_position_token_and_reason(string text, int position, string token, string reason)
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));

        Assert.Equal(position, error.Position);
        Assert.Equal(token, error.Token);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
        Assert.Equal(position + 1, error.Column);
        Assert.StartsWith($"Syntax error at line 1, column {position + 1} near ", error.Message, StringComparison.Ordinal);
        Assert.Same(error.GetType(), IoTHubQuery.Diagnose(text)!.GetType());
        Assert.Equal(error.Message, IoTHubQuery.Diagnose(text)!.Message);
        Assert.False(IoTHubQuery.TryParse(text, out var parsed));
        Assert.Null(parsed);
    }

    [Fact]
    public void Message_has_the_documented_shape()
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse("SELECT deviceId, lastActivity FORM devices"));

        Assert.Equal("Syntax error at line 1, column 31 near 'FORM': expected FROM.", error.Message);
        Assert.Equal("expected FROM", error.Reason);
        Assert.IsAssignableFrom<FormatException>(error);
    }

    [Fact]
    public void Line_and_column_count_from_the_last_newline()
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse("SELECT *\r\nFROM devices\nWHERE tags.x => 1"));

        Assert.Equal(3, error.Line);
        Assert.Equal(15, error.Column);
        Assert.Equal(">", error.Token);
    }

    [Fact]
    public void Query_longer_than_8192_characters_is_rejected()
    {
        var text = "SELECT * FROM devices WHERE deviceId IN [" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $"'d{i}'")) + "]";
        Assert.True(text.Length > 8192);

        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));

        Assert.Contains("longer than 8192 characters", error.Message, StringComparison.Ordinal);
        Assert.Equal(8192, error.Position);
    }

    [Fact]
    public void Query_of_exactly_8192_characters_is_accepted()
    {
        var prefix = "SELECT * FROM devices WHERE deviceId = '";
        var text = prefix + new string('x', 8192 - prefix.Length - 1) + "'";

        Assert.Equal(8192, text.Length);
        Assert.NotNull(IoTHubQuery.Parse(text));
    }

    [Fact]
    public void Long_tokens_are_shortened_in_the_message()
    {
        var text = "SELECT * FROM devices WHERE deviceId = '" + new string('y', 500);

        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));

        Assert.True(error.Token.Length < 50);
        Assert.EndsWith("...", error.Token, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10_000, "(")]
    [InlineData(10_000, "NOT ")]
    [InlineData(10_000, "-")]
    [InlineData(3_000, "IS_DEFINED(")]
    public void Deep_nesting_is_a_syntax_error_not_a_stack_overflow(int count, string opener)
    {
        var text = "SELECT * FROM devices WHERE " + string.Concat(Enumerable.Repeat(opener, count)) + "1";
        text = text[..Math.Min(text.Length, IoTHubQuery.MaxQueryLength)];

        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));

        Assert.Contains("nested too deeply", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_left_associative_chains_are_bounded()
    {
        var text = "SELECT * FROM devices WHERE properties.reported.a" + string.Concat(Enumerable.Repeat(" + 1", 500)) + " = 3";

        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));

        Assert.Contains("nested too deeply", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_AND_and_OR_chains_are_flat_and_accepted()
    {
        var text = "SELECT * FROM devices WHERE " + string.Join(" OR ", Enumerable.Range(0, 300).Select(i => $"deviceId = 'd{i}'"));

        var query = IoTHubQuery.Parse(text);

        var or = Assert.IsType<LogicalExpression>(query.Where);
        Assert.Equal(300, or.Operands.Count);
        Assert.Equal(3, or.Depth);
    }

    [Theory]
    [InlineData("SELECT * FROM devices")]
    [InlineData("select * from devices.modules where deviceId in ['a'] and moduleId nin ['b']")]
    [InlineData("SELECT TOP 5 * FROM devices")]
    [InlineData("SELECT TOP (5) deviceId FROM devices")]
    [InlineData("SELECT deviceId AS [[select]] FROM devices")]
    [InlineData("SELECT * FROM devices WHERE tags.x IN []")]
    [InlineData("SELECT * FROM devices WHERE tags.x = -1.5e3 AND tags.y = +2")]
    [InlineData("SELECT * FROM devices WHERE tags.[[]] = 1")]
    [InlineData("SELECT * FROM devices WHERE [[tags]].[[my key.with dots]] = 1")]
    [InlineData("SELECT * FROM devices WHERE tags.x = undefined OR tags.y = null")]
    [InlineData("SELECT * FROM devices WHERE tags.étage = 'ü'")]
    [InlineData("SELECT * FROM devices WHERE (((tags.x = 1)))")]
    [InlineData("SELECT MIN(tags.x) AS lo, MAX(tags.x) AS hi, AVG(tags.x) AS mean, SUM(tags.x) AS total FROM devices")]
    [InlineData("SELECT tags.a, tags.b, COUNT() AS n FROM devices GROUP BY tags.a, tags.b")]
    [InlineData("SELECT * FROM devices WHERE\n  tags.x = 1\r\n  AND tags.y = 2")]
    [InlineData("SELECT tags.order, tags.count AS c FROM devices WHERE tags.order = 1 AND tags.count > 2 AND tags.devices = 3")]
    public void Valid_queries_parse_and_diagnose_as_null(string text)
    {
        Assert.NotNull(IoTHubQuery.Parse(text));
        Assert.Null(IoTHubQuery.Diagnose(text));
        Assert.True(IoTHubQuery.TryParse(text, out var query));
        Assert.Equal(text, query.Text);
    }
}

/// <summary>Errors that explain a likely misunderstanding, not just where parsing stopped.</summary>
public class HelpfulErrorTests
{
    [Theory]
    [InlineData("SELECT * FROM devices WHERE tags.x NOT IN ['a']", 35, "NOT IN", "NIN")]
    [InlineData("SELECT * FROM devices WHERE group = 1", 28, "group", "[[group]]")]
    [InlineData("SELECT * FROM devices WHERE top IN [1]", 28, "top", "[[top]]")]
    [InlineData("SELECT * FROM devices WHERE tags.x = 'a\n  AND y = 1", 37, "'a...", "unterminated string")]
    public void Message_explains_the_problem(string text, int position, string token, string expected)
    {
        var error = Assert.Throws<QuerySyntaxException>(() => IoTHubQuery.Parse(text));

        Assert.Equal(position, error.Position);
        Assert.Equal(token, error.Token);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
