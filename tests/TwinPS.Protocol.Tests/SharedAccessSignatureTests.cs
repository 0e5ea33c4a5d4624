using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class SharedAccessSignatureTests
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY=";
    private const string OtherKey = "b3RoZXIta2V5LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc=";
    private static readonly DateTimeOffset Expiry = DateTimeOffset.FromUnixTimeSeconds(1795765563);

    private static string Hmac(string key, string stringToSign)
    {
        using var hmac = new HMACSHA256(Convert.FromBase64String(key));
        return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
    }

    // Node's encodeURIComponent plus !'()*; for base64 text this is the same as RFC 3986 escaping.
    private static string NodeEncode(string s) => Uri.EscapeDataString(s).Replace("!", "%21", StringComparison.Ordinal)
        .Replace("'", "%27", StringComparison.Ordinal).Replace("(", "%28", StringComparison.Ordinal)
        .Replace(")", "%29", StringComparison.Ordinal).Replace("*", "%2A", StringComparison.Ordinal);

    // Python's urllib.parse.quote with its default safe='/': '/' stays as is.
    private static string PythonQuote(string s) => Uri.EscapeDataString(s).Replace("%2F", "/", StringComparison.Ordinal);

    [Fact]
    public void Build_matches_an_independently_computed_vector()
    {
        var token = SharedAccessSignature.Build("myhub.azure-devices.net", Key, "iothubowner", Expiry);
        var expectedSig = WebUtility.UrlEncode(Hmac(Key, "myhub.azure-devices.net\n1795765563"));
        Assert.Equal($"SharedAccessSignature sr=myhub.azure-devices.net&sig={expectedSig}&se=1795765563&skn=iothubowner", token);
    }

    [Fact]
    public void Device_token_encodes_the_resource_and_has_no_skn()
    {
        var token = SharedAccessSignature.Build(SharedAccessSignature.DeviceResource("localhost", "dev1"), Key, null, Expiry);
        var expectedSig = Uri.EscapeDataString(Hmac(Key, "localhost%2Fdevices%2Fdev1\n1795765563"));
        Assert.Equal($"SharedAccessSignature sr=localhost%2Fdevices%2Fdev1&sig={expectedSig}&se=1795765563", token);
        Assert.Equal("localhost/devices/dev1/modules/m1", SharedAccessSignature.DeviceResource("localhost", "dev1", "m1"));
        Assert.Equal("h", SharedAccessSignature.ServiceResource("h"));
    }

    [Fact]
    public void Parse_exposes_fields_and_verifies_our_own_tokens()
    {
        var parsed = SharedAccessSignature.Parse(SharedAccessSignature.Build("localhost/devices/dev1", Key, null, Expiry));
        Assert.Equal("localhost%2Fdevices%2Fdev1", parsed.RawResource);
        Assert.Equal("localhost/devices/dev1", parsed.Resource);
        Assert.Equal(Expiry, parsed.ExpiresOn);
        Assert.Null(parsed.KeyName);
        Assert.Equal(Hmac(Key, "localhost%2Fdevices%2Fdev1\n1795765563"), parsed.Signature);
        Assert.True(parsed.IsSignatureValid(Key));
        Assert.False(parsed.IsSignatureValid(OtherKey));
        Assert.False(parsed.IsSignatureValid("not base64!"));
    }

    [Fact]
    public void Node_service_token_with_verbatim_host_and_port_verifies()
    {
        const string se = "1795765563";
        var sig = NodeEncode(Hmac(Key, "localhost:8443\n" + se));
        var header = $"SharedAccessSignature sr=localhost:8443&sig={sig}&skn=iothubowner&se={se}";
        var token = SharedAccessSignature.Parse(header);
        Assert.Equal("localhost:8443", token.RawResource);
        Assert.Equal("iothubowner", token.KeyName);
        Assert.True(token.IsSignatureValid(Key));
        Assert.True(token.ResourceMatches("localhost:8443"));
        Assert.True(token.ResourceMatches("localhost"));
        Assert.True(token.ResourceMatches("LOCALHOST"));
        Assert.False(token.ResourceMatches("localhost:9443"));
        Assert.False(token.ResourceMatches("otherhost"));
    }

    [Fact]
    public void Node_device_token_with_encoded_resource_verifies()
    {
        const string se = "1795765563";
        var sr = NodeEncode("localhost/devices/dev1");
        Assert.Equal("localhost%2Fdevices%2Fdev1", sr);
        var header = $"SharedAccessSignature sr={sr}&sig={NodeEncode(Hmac(Key, sr + "\n" + se))}&se={se}";
        var token = SharedAccessSignature.Parse(header);
        Assert.True(token.IsSignatureValid(Key));
        Assert.True(token.ResourceMatches("localhost/devices/dev1"));
        Assert.True(token.ResourceMatches("localhost:8883/devices/dev1"));
        Assert.False(token.ResourceMatches("localhost/devices/dev2"));
        Assert.False(token.ResourceMatches("localhost"));
    }

    [Fact]
    public void Signature_is_computed_over_the_raw_sr_so_a_re_encoded_sr_fails()
    {
        const string se = "1795765563";
        var sig = Uri.EscapeDataString(Hmac(Key, "localhost%2Fdevices%2Fdev1\n" + se));
        var lowerCaseEscapes = SharedAccessSignature.Parse($"SharedAccessSignature sr=localhost%2fdevices%2fdev1&sig={sig}&se={se}");
        Assert.Equal("localhost/devices/dev1", lowerCaseEscapes.Resource);
        Assert.False(lowerCaseEscapes.IsSignatureValid(Key));
    }

    [Fact]
    public void All_three_sig_encodings_are_accepted()
    {
        // Find an expiry whose signature holds '+', '/' and '=' so every encoder has something to do.
        var se = 1795765563L;
        string raw;
        do
        {
            se++;
            raw = Hmac(Key, "h.example\n" + se.ToString(CultureInfo.InvariantCulture));
        }
        while (!(raw.Contains('+', StringComparison.Ordinal) && raw.Contains('/', StringComparison.Ordinal)));

        var seText = se.ToString(CultureInfo.InvariantCulture);
        foreach (var encoded in new[] { NodeEncode(raw), WebUtility.UrlEncode(raw), PythonQuote(raw), LowerHex(Uri.EscapeDataString(raw)) })
        {
            var token = SharedAccessSignature.Parse($"SharedAccessSignature sr=h.example&sig={encoded}&se={seText}&skn=service");
            Assert.True(token.IsSignatureValid(Key), encoded);
        }
    }

    private static string LowerHex(string escaped)
    {
        var sb = new StringBuilder(escaped);
        for (var i = 0; i < sb.Length - 2; i++)
        {
            if (sb[i] == '%')
            {
                sb[i + 1] = char.ToLowerInvariant(sb[i + 1]);
                sb[i + 2] = char.ToLowerInvariant(sb[i + 2]);
            }
        }

        return sb.ToString();
    }

    [Fact]
    public void Field_names_are_case_insensitive_and_order_free()
    {
        var sig = Uri.EscapeDataString(Hmac(Key, "h\n1795765563"));
        var token = SharedAccessSignature.Parse($"SharedAccessSignature SE=1795765563&SKN=svc&SIG={sig}&SR=h");
        Assert.True(token.IsSignatureValid(Key));
        Assert.Equal("svc", token.KeyName);
    }

    [Fact]
    public void Expiry_uses_a_five_minute_skew()
    {
        var token = SharedAccessSignature.Parse(SharedAccessSignature.Build("h", Key, "svc", Expiry));
        Assert.False(token.IsExpired(Expiry.AddHours(-1)));
        Assert.False(token.IsExpired(Expiry));
        Assert.False(token.IsExpired(Expiry.AddMinutes(5)));
        Assert.True(token.IsExpired(Expiry.AddMinutes(5).AddSeconds(1)));
        Assert.True(token.IsExpired(Expiry.AddSeconds(1), TimeSpan.Zero));
    }

    [Fact]
    public void Expiry_at_the_end_of_time_does_not_overflow()
    {
        var token = SharedAccessSignature.Parse(SharedAccessSignature.Build("h", Key, "svc", DateTimeOffset.FromUnixTimeSeconds(253402300799)));
        Assert.False(token.IsExpired(DateTimeOffset.UtcNow));
        Assert.False(token.IsExpired(DateTimeOffset.MaxValue));
        Assert.False(token.IsExpired(DateTimeOffset.UtcNow, TimeSpan.MaxValue));
        Assert.True(SharedAccessSignatureToken.IsPastExpiry(DateTimeOffset.MaxValue, DateTimeOffset.MinValue, TimeSpan.FromMinutes(5)));
        Assert.False(SharedAccessSignatureToken.IsPastExpiry(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, TimeSpan.MaxValue));
    }

    [Fact]
    public void Segment_prefix_matching()
    {
        var hubToken = SharedAccessSignature.Parse(SharedAccessSignature.Build("h.example", Key, "device", Expiry));
        Assert.True(hubToken.ResourceMatches("h.example/devices/dev1"));

        var deviceToken = SharedAccessSignature.Parse(SharedAccessSignature.Build("h.example/devices/a", Key, null, Expiry));
        Assert.True(deviceToken.ResourceMatches("h.example/devices/a/modules/m"));
        Assert.True(deviceToken.ResourceMatches("h.example/devices/a/"));
        Assert.False(deviceToken.ResourceMatches("h.example/devices/ab"));
        Assert.False(deviceToken.ResourceMatches("h.example/devices"));
        Assert.False(deviceToken.ResourceMatches(""));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Bearer abc", "SharedAccessSignature")]
    [InlineData("SharedAccessSignature", "SharedAccessSignature")]
    [InlineData("sharedaccesssignature sr=h&sig=AAAA&se=1", "SharedAccessSignature")]
    [InlineData("SharedAccessSignature sig=SIGVALUE&se=1", "'sr'")]
    [InlineData("SharedAccessSignature sr=h&se=1", "'sig'")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE", "'se'")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE&se=soon", "'se'")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE&se=-5", "'se'")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE&se=99999999999999999999", "'se'")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE!!&se=1", "'sig'")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE&se=1", "'sig'")]
    [InlineData("SharedAccessSignature sr=h&sr=h&sig=SIGVALUE&se=1", "more than once")]
    [InlineData("SharedAccessSignature sr=h&=x&sig=SIGVALUE&se=1", "without a name")]
    [InlineData("SharedAccessSignature sr=h&sig=SIGVALUE &se=1", "SharedAccessSignature")]
    public void Malformed_tokens_throw_a_specific_exception_without_the_signature(string header, string expected)
    {
        var ex = Assert.Throws<SharedAccessSignatureFormatException>(() => SharedAccessSignature.Parse(header));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SIGVALUE", ex.Message, StringComparison.Ordinal);
        Assert.Equal(IoTHubErrorCode.IotHubUnauthorizedAccess, ex.Code);
        Assert.False(SharedAccessSignature.TryParse(header, out _));
    }

    [Fact]
    public void ToString_redacts_the_signature()
    {
        var header = SharedAccessSignature.Build("h", Key, "svc", Expiry);
        var token = SharedAccessSignature.Parse(header);
        var sigValue = header.Split("sig=")[1].Split('&')[0];
        Assert.DoesNotContain(sigValue, token.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token.Signature, token.ToString(), StringComparison.Ordinal);
        Assert.Contains("sig=***", token.ToString(), StringComparison.Ordinal);
        Assert.Contains("skn=svc", token.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_rejects_a_key_that_is_not_base64_without_echoing_it()
    {
        var ex = Assert.Throws<IoTHubProtocolException>(() => SharedAccessSignature.Build("h", "secret*value", null, Expiry));
        Assert.DoesNotContain("secret*value", ex.Message, StringComparison.Ordinal);
    }
}
