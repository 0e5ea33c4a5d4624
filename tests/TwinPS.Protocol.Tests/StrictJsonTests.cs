using System.Text;
using System.Text.Json;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public sealed class StrictJsonTests
{
    public static TheoryData<byte[]> Malformed() =>
    [
        [.. "{\"a\":\""u8, 0xC3, 0x28, .. "\"}"u8],
        [.. "{\"a\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8],
        [.. "{\""u8, 0xFF, .. "\":1}"u8],
        Encoding.UTF8.GetBytes("{\"a\":\"\\ud800\"}"),
        Encoding.UTF8.GetBytes("{\"\\udfff\":1}"),
        Encoding.UTF8.GetBytes("[\"\\udc00\\ud800\"]"),
        Encoding.UTF8.GetBytes("{\"a\":1,\"a\":2}"),
        Encoding.UTF8.GetBytes("{\"o\":{\"x\":{},\"x\":null}}"),
        Encoding.UTF8.GetBytes("[{\"k\":1},{\"k\":2,\"k\":3}]"),
        Encoding.UTF8.GetBytes("{\"a\":"),
    ];

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_text_is_a_JsonException_before_anything_is_returned(byte[] json)
    {
        Assert.ThrowsAny<JsonException>(() => StrictJson.Parse(json));
    }

    [Fact]
    public void Valid_text_parses_including_same_names_in_different_objects_and_escaped_pairs()
    {
        var node = StrictJson.Parse(Encoding.UTF8.GetBytes("{\"a\":{\"k\":1},\"b\":{\"k\":2},\"c\":[{\"k\":3},{\"k\":4}],\"s\":\"\\ud83d\\ude00 é\"}"))!;
        Assert.Equal(2, (int)node["b"]!["k"]!);
        Assert.Equal("\U0001F600 é", (string)node["s"]!);
    }

    [Fact]
    public void Names_that_differ_only_in_case_are_different_names()
    {
        var node = StrictJson.Parse(Encoding.UTF8.GetBytes("{\"a\":1,\"A\":2}"))!;
        Assert.Equal(2, (int)node["A"]!);
    }
}
