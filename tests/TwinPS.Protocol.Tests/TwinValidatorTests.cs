using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class TwinValidatorTests
{
    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private static TwinValidationException Fails(JsonNode? section, TwinSectionKind kind = TwinSectionKind.Tags, TwinWriteMode mode = TwinWriteMode.Patch)
    {
        var ex = Assert.Throws<TwinValidationException>(() => TwinValidator.ValidatePatch(section, kind, mode));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, ex.Code);
        return ex;
    }

    private static JsonObject Nested(int objectLevels, JsonNode? leaf)
    {
        // objectLevels objects below the section; the leaf sits as "v" in the deepest one.
        var inner = new JsonObject { ["v"] = leaf };
        for (var i = objectLevels - 1; i >= 1; i--)
        {
            inner = new JsonObject { ["l" + i] = inner };
        }

        return new JsonObject { ["l0"] = inner };
    }

    [Fact]
    public void Plain_values_pass_in_every_section()
    {
        var doc = Obj("{\"a\":1,\"b\":1.5,\"c\":\"s\",\"d\":true,\"e\":false,\"f\":[1,\"x\",{\"g\":[]}],\"h\":{},\"\":\"empty key\",\"ключ\":\"unicode\"}");
        foreach (var kind in Enum.GetValues<TwinSectionKind>())
        {
            TwinValidator.ValidatePatch(doc, kind, TwinWriteMode.Patch);
            TwinValidator.ValidatePatch(doc, kind, TwinWriteMode.Replace);
        }

        TwinValidator.ValidatePatch(null, TwinSectionKind.Desired, TwinWriteMode.Patch);
    }

    [Theory]
    [InlineData("a.b", "'.'")]
    [InlineData("$a", "'$'")]
    [InlineData("a$", "'$'")]
    [InlineData("a#b", "'#'")]
    [InlineData("a b", "' '")]
    [InlineData("a\u0001", "U+0001")]
    [InlineData("a\tb", "U+0009")]
    [InlineData("a\u007f", "U+007F")]
    [InlineData("a\u0085", "U+0085")]
    public void Invalid_keys_are_rejected_with_the_path(string key, string expected)
    {
        var section = new JsonObject { ["location"] = new JsonObject { [key] = 1 } };
        var ex = Fails(section);
        Assert.Equal("tags.location." + key, ex.Path);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("tags.location.", ex.Message, StringComparison.Ordinal);
        Assert.False(TwinValidator.IsValidKey(key));
    }

    [Fact]
    public void Key_length_boundary_is_1024_utf8_bytes()
    {
        TwinValidator.ValidatePatch(new JsonObject { [new string('k', 1024)] = 1 }, TwinSectionKind.Tags, TwinWriteMode.Patch);
        TwinValidator.ValidatePatch(new JsonObject { [new string('\u00e9', 512)] = 1 }, TwinSectionKind.Tags, TwinWriteMode.Patch);
        var ex = Fails(new JsonObject { [new string('k', 1025)] = 1 });
        Assert.Contains("1024", ex.Message, StringComparison.Ordinal);
        Fails(new JsonObject { [new string('\u00e9', 513)] = 1 });
    }

    [Fact]
    public void Depth_boundary_is_ten_objects_with_a_scalar_in_the_tenth()
    {
        TwinValidator.ValidatePatch(Nested(10, 1), TwinSectionKind.Desired, TwinWriteMode.Patch);
        TwinValidator.ValidatePatch(Nested(9, new JsonObject()), TwinSectionKind.Desired, TwinWriteMode.Patch);
        Fails(Nested(10, new JsonObject()), TwinSectionKind.Desired); // an empty object in the tenth is an eleventh level
        var ex = Fails(Nested(11, 1), TwinSectionKind.Desired);
        Assert.Equal("properties.desired.l0.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10", ex.Path);
        Assert.Contains("10", ex.Message, StringComparison.Ordinal);
        Fails(Nested(10, new JsonObject { ["x"] = 1 }), TwinSectionKind.Desired);
    }

    [Fact]
    public void Arrays_count_as_a_level()
    {
        TwinValidator.ValidatePatch(Nested(9, new JsonArray(1, 2)), TwinSectionKind.Reported, TwinWriteMode.Patch);
        var ex = Fails(Nested(10, new JsonArray(1, 2)), TwinSectionKind.Reported);
        Assert.EndsWith(".v", ex.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void String_boundary_is_4096_utf8_bytes()
    {
        TwinValidator.ValidatePatch(new JsonObject { ["s"] = new string('x', 4096) }, TwinSectionKind.Desired, TwinWriteMode.Patch);
        TwinValidator.ValidatePatch(new JsonObject { ["s"] = new string('\u20ac', 1365) + "x" }, TwinSectionKind.Desired, TwinWriteMode.Patch); // 4095 + 1
        var ex = Fails(new JsonObject { ["a"] = new JsonObject { ["s"] = new string('x', 4097) } }, TwinSectionKind.Desired);
        Assert.Equal("properties.desired.a.s", ex.Path);
        Assert.Contains("4096", ex.Message, StringComparison.Ordinal);
        Fails(new JsonObject { ["s"] = new string('\u20ac', 1366) }, TwinSectionKind.Desired); // 4098 bytes
    }

    [Theory]
    [InlineData("4503599627370495", true)]
    [InlineData("-4503599627370496", true)]
    [InlineData("4503599627370496", false)]
    [InlineData("-4503599627370497", false)]
    [InlineData("123456789012345678901234567890", false)]
    [InlineData("0", true)]
    [InlineData("-0", true)]
    [InlineData("1.0", true)]
    [InlineData("4503599627370496.5", true)]
    [InlineData("1e300", true)]
    [InlineData("1e400", false)]
    [InlineData("-1E-400", true)]
    public void Integer_range_is_plus_minus_2_pow_52(string number, bool valid)
    {
        var section = Obj("{\"n\":" + number + "}");
        if (valid)
        {
            TwinValidator.ValidatePatch(section, TwinSectionKind.Tags, TwinWriteMode.Patch);
        }
        else
        {
            Assert.Equal("tags.n", Fails(section).Path);
        }
    }

    [Fact]
    public void Clr_numbers_are_checked_too()
    {
        TwinValidator.ValidatePatch(new JsonObject { ["n"] = TwinValidator.MaxSafeInteger }, TwinSectionKind.Tags, TwinWriteMode.Patch);
        Fails(new JsonObject { ["n"] = TwinValidator.MaxSafeInteger + 1 });
        Fails(new JsonObject { ["n"] = double.NaN });
        Fails(new JsonObject { ["n"] = double.PositiveInfinity });
    }

    [Fact]
    public void Null_inside_arrays_is_rejected_in_both_modes()
    {
        foreach (var mode in Enum.GetValues<TwinWriteMode>())
        {
            var ex = Fails(Obj("{\"a\":[1,null]}"), TwinSectionKind.Tags, mode);
            Assert.Equal("tags.a[1]", ex.Path);
            var ex2 = Fails(Obj("{\"a\":[{\"b\":null}]}"), TwinSectionKind.Reported, mode);
            Assert.Equal("properties.reported.a[0].b", ex2.Path);
        }
    }

    [Fact]
    public void Null_values_delete_in_patch_and_are_rejected_in_replace()
    {
        TwinValidator.ValidatePatch(Obj("{\"a\":null,\"b\":{\"c\":null}}"), TwinSectionKind.Desired, TwinWriteMode.Patch);
        var ex = Fails(Obj("{\"my-tag\":{\"x\":null}}"), TwinSectionKind.Tags, TwinWriteMode.Replace);
        Assert.Equal("tags.my-tag.x", ex.Path);
        Assert.Equal("Value of Property or Tag cannot be null. Error in Property/Tag tags.my-tag.x", ex.Message);
    }

    [Fact]
    public void Section_must_be_an_object()
    {
        Assert.Equal("tags", Fails(new JsonArray()).Path);
        Assert.Equal("properties.desired", Fails(JsonValue.Create(5), TwinSectionKind.Desired).Path);
    }

    private static JsonObject Filled(int keys, int stringLength)
    {
        var obj = new JsonObject();
        for (var i = 0; i < keys; i++)
        {
            obj[((char)('a' + i)).ToString()] = new string('x', stringLength);
        }

        return obj;
    }

    [Fact]
    public void Tags_size_boundary_is_8192()
    {
        var atLimit = Filled(2, 4095); // 2 × (1 + 4095) = 8192
        Assert.Equal(8192, TwinValidator.ComputeSize(atLimit));
        TwinValidator.ValidatePatch(atLimit, TwinSectionKind.Tags, TwinWriteMode.Patch);
        TwinValidator.ValidateSectionSize(atLimit, TwinSectionKind.Tags);

        atLimit["b"] = new string('x', 4096);
        var ex = Fails(atLimit);
        Assert.Equal("tags", ex.Path);
        Assert.Contains("8193", ex.Message, StringComparison.Ordinal);
        Assert.Contains("8192", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Desired_and_reported_size_boundary_is_32768()
    {
        foreach (var kind in new[] { TwinSectionKind.Desired, TwinSectionKind.Reported })
        {
            var atLimit = Filled(8, 4095); // 8 × 4096
            TwinValidator.ValidateSectionSize(atLimit, kind);
            atLimit["i"] = true; // + 1 + 4
            var ex = Assert.Throws<TwinValidationException>(() => TwinValidator.ValidateSectionSize(atLimit, kind));
            Assert.Equal(TwinValidator.SectionPath(kind), ex.Path);
            Assert.Contains("32773", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Size_rule_counts_keys_strings_numbers_booleans_and_skips_dollar_keys_and_control_chars()
    {
        Assert.Equal(1 + 8, TwinValidator.ComputeSize(Obj("{\"a\":1.5}")));
        Assert.Equal(2 + 4, TwinValidator.ComputeSize(Obj("{\"ab\":false}")));
        Assert.Equal(1 + 2, TwinValidator.ComputeSize(Obj("{\"s\":\"a\\u0001b\"}")));
        Assert.Equal(1 + 2, TwinValidator.ComputeSize(Obj("{\"s\":\"\u00e9\"}")));
        Assert.Equal(1 + (1 + 8) + 1, TwinValidator.ComputeSize(Obj("{\"o\":{\"n\":1},\"$version\":3,\"$metadata\":{\"$lastUpdated\":\"x\"},\"z\":[]}")));
        Assert.Equal(1 + 8 + 4, TwinValidator.ComputeSize(Obj("{\"a\":[1,true]}")));
        Assert.Equal(0, TwinValidator.ComputeSize(Obj("{\"$version\":3}")));
        Assert.Equal(1, TwinValidator.ComputeSize(Obj("{\"a\":null}")));
    }

    [Fact]
    public void Exception_messages_keep_control_characters_out()
    {
        var ex = Fails(new JsonObject { ["bad\u0007key"] = 1 });
        Assert.DoesNotContain("\u0007", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\\u0007", ex.Message, StringComparison.Ordinal);
    }
}
