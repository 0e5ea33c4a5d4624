using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Tests;

public sealed class CommandLineTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    [Fact]
    public void Ready_line_has_every_field()
    {
        JsonObject ready = fixture.Emulator.Ready;
        Assert.Equal("localhost", (string)ready["hostName"]!);
        int port = (int)ready["httpsPort"]!;
        Assert.InRange(port, 1, 65535);
        Assert.Equal("twinps-emulator", (string)ready["hubName"]!);
        Assert.Null(ready["dataPath"]);
        Assert.Equal(fixture.Emulator.ProcessId, (int)ready["processId"]!);
        Assert.True(File.Exists((string)ready["caCertificatePath"]!));
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText((string)ready["caCertificatePath"]!), StringComparison.Ordinal);

        var service = IoTHubConnectionString.Parse((string)ready["serviceConnectionString"]!);
        Assert.Equal($"localhost:{port}", service.HostName);
        Assert.Equal("iothubowner", service.SharedAccessKeyName);
        var policies = (JsonObject)ready["policies"]!;
        Assert.Equal(["device", "iothubowner", "registryRead", "registryReadWrite", "service"], policies.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal((string)ready["serviceConnectionString"]!, (string)policies["iothubowner"]!);
        Assert.Equal(5, policies.Select(p => IoTHubConnectionString.Parse((string)p.Value!).SharedAccessKey).Distinct().Count());
        Assert.True(ready.ContainsKey("mqttPort"));
    }

    [Fact]
    public void Runs_the_workstation_garbage_collector()
    {
        // A local emulator shares the machine with its clients: the server GC would keep a heap and a spinning GC thread
        // per processor. The runtime reads this file next to the emulator it starts.
        string config = Path.ChangeExtension(Path.GetFullPath(EmulatorProcess.EmulatorDll), ".runtimeconfig.json");
        var properties = JsonNode.Parse(File.ReadAllText(config))!["runtimeOptions"]!["configProperties"] as JsonObject;
        Assert.False(properties?["System.GC.Server"]?.GetValue<bool>() ?? false, $"{config} turns the server GC on.");
    }

    [Fact]
    public async Task Stdout_carries_only_the_ready_line_and_logs_carry_no_keys()
    {
        await fixture.Owner.GetAsync("twins/nosuch");
        await fixture.Owner.PutAsync("devices/" + Ids.New(), "{}");
        Assert.Equal(string.Empty, fixture.Emulator.ExtraStandardOutput);
        string key = IoTHubConnectionString.Parse(fixture.Emulator.ServiceConnectionString).SharedAccessKey!;
        Assert.DoesNotContain(key, fixture.Emulator.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", fixture.Emulator.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--https-port", "abc")]
    [InlineData("--https-port", "70000")]
    [InlineData("--bogus")]
    [InlineData("--bind", "not-an-ip")]
    [InlineData("--data")]
    [InlineData("--in-memory", "--data", "/tmp/x")]
    [InlineData("--hub-name", "a")]
    [InlineData("--handshake-timeout", "0")]
    [InlineData("--handshake-timeout", "abc")]
    [InlineData("--policy", "noRights")]
    [InlineData("--policy", "p=")]
    [InlineData("--policy", "p=ServiceConnect,Admin")]
    [InlineData("--policy", "p=1")]
    [InlineData("--policy", "service=RegistryRead")]
    [InlineData("--policy", "IOTHUBOWNER=RegistryRead")]
    [InlineData("--policy", "bad name=RegistryRead")]
    [InlineData("--policy", "p=RegistryRead", "--policy", "P=ServiceConnect")]
    [InlineData("--policy", "a=RegistryRead", "--policy", "b=RegistryRead", "--policy", "c=RegistryRead", "--policy", "d=RegistryRead", "--policy", "e=RegistryRead",
        "--policy", "f=RegistryRead", "--policy", "g=RegistryRead", "--policy", "h=RegistryRead", "--policy", "i=RegistryRead", "--policy", "j=RegistryRead",
        "--policy", "k=RegistryRead", "--policy", "l=RegistryRead")]
    [InlineData("--policy", "a=ServiceConnect", "--policy", "b=ServiceConnect", "--policy", "c=ServiceConnect", "--policy", "d=ServiceConnect", "--policy", "e=ServiceConnect",
        "--policy", "f=ServiceConnect", "--policy", "g=ServiceConnect", "--policy", "h=ServiceConnect", "--policy", "i=ServiceConnect")]
    public void Bad_options_exit_2_with_a_message_on_stderr(params string[] args)
    {
        using Process p = EmulatorProcess.StartRaw(args);
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(2, p.ExitCode);
        Assert.Equal(string.Empty, stdout);
        Assert.StartsWith("TwinPS.Emulator: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_exits_0()
    {
        using Process p = EmulatorProcess.StartRaw("--help");
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("--https-port", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_shuts_down_cleanly_and_removes_the_in_memory_temp_folder()
    {
        using EmulatorProcess emulator = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory", "--verbose");
        string caFolder = Path.GetDirectoryName(emulator.CaCertificatePath)!;
        Assert.True(Directory.Exists(caFolder));
        string key;
        using (var hub = new HubClient(emulator))
        {
            key = hub.Key;
            Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("statistics/devices")).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await hub.GetAsync("twins/nosuch")).Status);
        }

        Assert.Equal(0, emulator.Stop(TimeBounds.Eventually));
        Assert.False(Directory.Exists(caFolder));

        // --verbose logs one line per request on stderr: method, path without the query string, status.
        string log = emulator.StandardError;
        Assert.Contains("GET /statistics/devices -> 200", log, StringComparison.Ordinal);
        Assert.Contains("GET /twins/nosuch -> 404", log, StringComparison.Ordinal);
        Assert.DoesNotContain("api-version", log, StringComparison.Ordinal);
        Assert.DoesNotContain(key, log, StringComparison.Ordinal);
        Assert.Equal(string.Empty, emulator.ExtraStandardOutput);
    }

    [Fact]
    public void Port_in_use_fails_with_exit_1()
    {
        using Process p = EmulatorProcess.StartRaw("--https-port", fixture.Emulator.HttpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mqtt-port", "0", "--in-memory");
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.NotEqual(0, p.ExitCode);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("could not start", stderr, StringComparison.Ordinal);
    }
}
