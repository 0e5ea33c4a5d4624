using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class ConnectionStringTests
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY=";

    [Fact]
    public void Parses_service_connection_string_with_case_insensitive_parts()
    {
        var cs = IoTHubConnectionString.Parse($"hostname=myhub.azure-devices.net;sharedaccesskeyname=iothubowner;SHAREDACCESSKEY={Key}");
        Assert.Equal(IoTHubConnectionKind.Service, cs.Kind);
        Assert.Equal("myhub.azure-devices.net", cs.HostName);
        Assert.Equal("myhub.azure-devices.net", cs.Host);
        Assert.Null(cs.Port);
        Assert.Equal("iothubowner", cs.SharedAccessKeyName);
        Assert.Equal(Key, cs.SharedAccessKey);
        Assert.Equal("myhub.azure-devices.net", cs.SasResource);
    }

    [Fact]
    public void Host_name_with_port_is_kept_verbatim_and_split()
    {
        var cs = IoTHubConnectionString.Parse($"HostName=localhost:8443;SharedAccessKeyName=service;SharedAccessKey={Key}");
        Assert.Equal("localhost:8443", cs.HostName);
        Assert.Equal("localhost", cs.Host);
        Assert.Equal(8443, cs.Port);
    }

    [Fact]
    public void Parses_device_and_module_connection_strings()
    {
        var device = IoTHubConnectionString.Parse($"HostName=h.example;DeviceId=dev1;SharedAccessKey={Key}");
        Assert.Equal(IoTHubConnectionKind.Device, device.Kind);
        Assert.Equal("dev1", device.DeviceId);
        Assert.Equal("h.example/devices/dev1", device.SasResource);

        var module = IoTHubConnectionString.Parse($"HostName=h.example;DeviceId=dev1;ModuleId=m1;SharedAccessKey={Key};GatewayHostName=edge.local");
        Assert.Equal(IoTHubConnectionKind.Module, module.Kind);
        Assert.Equal("m1", module.ModuleId);
        Assert.Equal("edge.local", module.GatewayHostName);
        Assert.Equal("h.example/devices/dev1/modules/m1", module.SasResource);
    }

    [Fact]
    public void Parses_x509_and_presigned_token_forms()
    {
        var x509 = IoTHubConnectionString.Parse("HostName=h.example;DeviceId=dev1;x509=true");
        Assert.True(x509.UseX509);
        Assert.Null(x509.SharedAccessKey);

        var token = SharedAccessSignature.Build("h.example", Key, "service", DateTimeOffset.UtcNow.AddHours(1));
        var presigned = IoTHubConnectionString.Parse($"HostName=h.example;SharedAccessKeyName=service;SharedAccessSignature={token}");
        Assert.Equal(token, presigned.SharedAccessSignature);
        Assert.Equal(token, presigned.CreateSasToken(DateTimeOffset.UtcNow));
    }

    [Theory]
    [InlineData("SharedAccessKeyName=a;SharedAccessKey=" + Key, "HostName")]
    [InlineData("HostName=h;SharedAccessKey=" + Key, "SharedAccessKeyName")]
    [InlineData("HostName=h;SharedAccessKeyName=a", "SharedAccessKey")]
    [InlineData("HostName=h;DeviceId=d", "SharedAccessKey")]
    [InlineData("HostName=h;ModuleId=m;SharedAccessKey=" + Key, "DeviceId")]
    [InlineData("HostName=h;Bogus=1;SharedAccessKeyName=a;SharedAccessKey=" + Key, "Bogus")]
    [InlineData("HostName=h;hostname=h2;SharedAccessKeyName=a;SharedAccessKey=" + Key, "more than once")]
    [InlineData("HostName=h;SharedAccessKeyName=a;SharedAccessKey=not*base64", "not valid base64")]
    [InlineData("HostName=https://h;SharedAccessKeyName=a;SharedAccessKey=" + Key, "scheme")]
    [InlineData("HostName=h:99999;SharedAccessKeyName=a;SharedAccessKey=" + Key, "port")]
    [InlineData("HostName=h;DeviceId=bad/id;SharedAccessKey=" + Key, "Device ID")]
    [InlineData("HostName=h;DeviceId=d;x509=true;SharedAccessKey=" + Key, "x509")]
    [InlineData("HostName=h;DeviceId=d;x509=maybe", "x509")]
    [InlineData("HostName=h;SharedAccessKeyName=;SharedAccessKey=" + Key, "empty")]
    [InlineData("HostName=h;justtext", "without '='")]
    [InlineData("HostName=h;SharedAccessKeyName=a;SharedAccessSignature=SharedAccessSignature sr=h&se=1", "not a valid token")]
    [InlineData("", "empty")]
    public void Invalid_strings_give_format_exception_naming_the_part(string text, string expectedInMessage)
    {
        var ex = Assert.Throws<FormatException>(() => IoTHubConnectionString.Parse(text));
        Assert.Contains(expectedInMessage, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, ex.Message, StringComparison.Ordinal);
        Assert.False(IoTHubConnectionString.TryParse(text, out var parsed));
        Assert.Null(parsed);
    }

    [Fact]
    public void Messages_never_echo_a_key_even_in_a_misspelled_part()
    {
        var ex = Assert.Throws<FormatException>(() => IoTHubConnectionString.Parse($"HostName=h;SharedAccessKeyName=a;{Key}"));
        Assert.DoesNotContain(Key, ex.Message, StringComparison.Ordinal);
        var ex2 = Assert.Throws<FormatException>(() => IoTHubConnectionString.Parse($"HostName=h;SharedAccessKeyName=a;SharedAccesKey={Key}"));
        Assert.DoesNotContain(Key, ex2.Message, StringComparison.Ordinal);
        Assert.Contains("SharedAccesKey", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_redacts_and_ToSecretString_round_trips()
    {
        var text = $"HostName=h.example;DeviceId=dev1;SharedAccessKey={Key}";
        var cs = IoTHubConnectionString.Parse(text);
        Assert.DoesNotContain(Key, cs.ToString(), StringComparison.Ordinal);
        Assert.Contains("SharedAccessKey=***", cs.ToString(), StringComparison.Ordinal);
        Assert.Equal(text, cs.ToSecretString());
        Assert.Equal(cs.ToSecretString(), IoTHubConnectionString.Parse(cs.ToSecretString()).ToSecretString());

        var token = SharedAccessSignature.Build("h.example", Key, "service", DateTimeOffset.UtcNow.AddHours(1));
        var presigned = IoTHubConnectionString.Parse($"HostName=h.example;SharedAccessKeyName=service;SharedAccessSignature={token}");
        Assert.DoesNotContain("sig=", presigned.ToString(), StringComparison.Ordinal);
        Assert.Contains("SharedAccessSignature=***", presigned.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CreateSasToken_signs_for_the_connection_resource()
    {
        var cs = IoTHubConnectionString.ForDevice("h.example", "dev1", Key);
        var token = SharedAccessSignature.Parse(cs.CreateSasToken(DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal("h.example/devices/dev1", token.Resource);
        Assert.Null(token.KeyName);
        Assert.True(token.IsSignatureValid(Key));

        var service = IoTHubConnectionString.ForService("localhost:8443", "iothubowner", Key);
        var serviceToken = SharedAccessSignature.Parse(service.CreateSasToken(DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal("iothubowner", serviceToken.KeyName);
        Assert.True(serviceToken.ResourceMatches("localhost:8443"));

        var x509 = IoTHubConnectionString.Parse("HostName=h.example;DeviceId=dev1;x509=true");
        Assert.Throws<InvalidOperationException>(() => x509.CreateSasToken(DateTimeOffset.UtcNow));
    }

    [Fact]
    public void Trailing_semicolons_and_whitespace_are_tolerated()
    {
        var cs = IoTHubConnectionString.Parse($" HostName = h.example ; DeviceId=dev1;SharedAccessKey={Key}; ");
        Assert.Equal("h.example", cs.HostName);
        Assert.Equal("dev1", cs.DeviceId);
    }
}
