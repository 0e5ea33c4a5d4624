using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class IdentityRulesTests
{
    [Theory]
    [InlineData("dev1")]
    [InlineData("A-Z:a.z+0%9_#*?!(),=@;$'")]
    [InlineData("x")]
    public void Valid_device_ids_pass(string id)
    {
        IdentityRules.ValidateDeviceId(id);
        Assert.True(IdentityRules.IsValidDeviceId(id));
    }

    [Fact]
    public void Device_id_length_boundary_is_128()
    {
        IdentityRules.ValidateDeviceId(new string('a', 128));
        var ex = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateDeviceId(new string('a', 129)));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, ex.Code);
        Assert.Contains("Device ID", ex.Message, StringComparison.Ordinal);
        Assert.Contains("128", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(null, "empty")]
    [InlineData("a/b", "'/'")]
    [InlineData("a b", "U+0020")]
    [InlineData("caf\u00e9", "'\u00e9'")]
    [InlineData("tab\there", "U+0009")]
    [InlineData("a&b", "'&'")]
    public void Invalid_device_ids_name_the_role_and_the_character(string? id, string expected)
    {
        var ex = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateDeviceId(id));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, ex.Code);
        Assert.StartsWith("Device ID", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.False(IdentityRules.IsValidDeviceId(id));
    }

    [Fact]
    public void Module_ids_reserve_the_dollar_prefix_for_system_modules()
    {
        IdentityRules.ValidateModuleId("telemetry", allowSystemModules: false);
        IdentityRules.ValidateModuleId("$edgeAgent", allowSystemModules: true);
        var ex = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateModuleId("$edgeAgent", allowSystemModules: false));
        Assert.Contains("Module ID", ex.Message, StringComparison.Ordinal);
        Assert.Contains("reserved", ex.Message, StringComparison.Ordinal);
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateModuleId("m/1", allowSystemModules: true));
    }

    [Fact]
    public void Symmetric_keys_are_base64_of_16_to_64_bytes()
    {
        IdentityRules.ValidateSymmetricKey(Convert.ToBase64String(new byte[16]));
        IdentityRules.ValidateSymmetricKey(Convert.ToBase64String(new byte[64]));
        var tooShort = Convert.ToBase64String(new byte[15]);
        var tooLong = Convert.ToBase64String(new byte[65]);
        var e1 = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateSymmetricKey(tooShort, "Primary key"));
        Assert.Contains("Primary key", e1.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(tooShort, e1.Message, StringComparison.Ordinal);
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateSymmetricKey(tooLong));
        var e2 = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateSymmetricKey("secret-not-base64!"));
        Assert.DoesNotContain("secret-not-base64", e2.Message, StringComparison.Ordinal);
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateSymmetricKey(""));
    }

    [Fact]
    public void Generated_keys_are_32_random_bytes()
    {
        var a = IdentityRules.GenerateSymmetricKey();
        var b = IdentityRules.GenerateSymmetricKey();
        Assert.Equal(32, Convert.FromBase64String(a).Length);
        Assert.NotEqual(a, b);
        IdentityRules.ValidateSymmetricKey(a);
    }

    [Fact]
    public void Thumbprints_are_40_or_64_hex_characters_without_separators()
    {
        IdentityRules.ValidateThumbprint(new string('A', 40));
        IdentityRules.ValidateThumbprint(new string('f', 64));
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateThumbprint(new string('A', 39)));
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateThumbprint(new string('A', 41)));
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateThumbprint(new string('G', 40)));
        var ex = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateThumbprint(string.Join(':', Enumerable.Repeat("AB", 20)), "Secondary thumbprint"));
        Assert.Contains("Secondary thumbprint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_reason_is_at_most_128_characters()
    {
        IdentityRules.ValidateStatusReason(null);
        IdentityRules.ValidateStatusReason(new string('\u00e9', 128));
        var ex = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateStatusReason(new string('x', 129)));
        Assert.Contains("Status reason", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Job_ids_are_lower_case_letters_digits_dash_and_quote_up_to_64()
    {
        IdentityRules.ValidateJobId("job-1'a");
        IdentityRules.ValidateJobId(new string('a', 64));
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateJobId(new string('a', 65)));
        var ex = Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateJobId("Job1"));
        Assert.Contains("Job ID", ex.Message, StringComparison.Ordinal);
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateJobId("job_1"));
        Assert.Throws<IoTHubProtocolException>(() => IdentityRules.ValidateJobId(""));
    }
}
