using System.Net;
using System.Security.Cryptography;
using System.Text;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Tests;

public sealed class AuthTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly HubClient _hub = fixture.Owner;

    private async Task<HubResponse> WithAuthorization(HttpMethod method, string path, string? body, string? authorization)
    {
        return await _hub.SendAsync(method, path, body, r =>
        {
            r.Headers.Remove("Authorization");
            if (authorization is not null) r.Headers.TryAddWithoutValidation("Authorization", authorization);
        });
    }

    private void AssertUnauthorized(HubResponse r)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
        Assert.Equal("IotHubUnauthorizedAccess", r.Header("iothub-errorcode"));
        Assert.Equal("IotHubUnauthorizedAccess", r.EnvelopeCode);
        Assert.DoesNotContain(_hub.Key, r.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", r.EnvelopeMessage!.Replace("sig=…", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    public static TheoryData<string> BadTokens()
    {
        var data = new TheoryData<string>();
        data.Add("garbage");
        data.Add("SharedAccessSignature");
        data.Add("SharedAccessSignature sr=localhost&sig=abc&se=notanumber&skn=iothubowner");
        data.Add("Bearer eyJhbGciOi.fake.token");
        data.Add("SharedAccessSignature sr=localhost&se=99999999999&skn=iothubowner");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Malformed_tokens_are_401_and_change_nothing(string token)
    {
        string id = Ids.New();
        HubResponse r = await WithAuthorization(HttpMethod.Put, "devices/" + id, "{}", token);
        AssertUnauthorized(r);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + id)).Status);
    }

    [Fact]
    public async Task Missing_header_says_so()
    {
        HubResponse r = await WithAuthorization(HttpMethod.Get, "statistics/devices", null, null);
        AssertUnauthorized(r);
        Assert.Contains("Authorization header missing", r.EnvelopeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_token_is_401()
    {
        string expired = SharedAccessSignature.Build(_hub.HostName, _hub.Key, _hub.KeyName, DateTimeOffset.UtcNow.AddMinutes(-10));
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null, expired));
        string fresh = SharedAccessSignature.Build(_hub.HostName, _hub.Key, _hub.KeyName, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(HttpStatusCode.OK, (await WithAuthorization(HttpMethod.Get, "statistics/devices", null, fresh)).Status);
    }

    [Fact]
    public async Task Wrong_key_wrong_policy_and_wrong_resource_are_401()
    {
        string otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null,
            SharedAccessSignature.Build(_hub.HostName, otherKey, "iothubowner", DateTimeOffset.UtcNow.AddHours(1))));
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null,
            SharedAccessSignature.Build(_hub.HostName, _hub.Key, "nosuchpolicy", DateTimeOffset.UtcNow.AddHours(1))));
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null,
            SharedAccessSignature.Build("otherhub.azure-devices.net", _hub.Key, _hub.KeyName, DateTimeOffset.UtcNow.AddHours(1))));

        // A device-scoped resource (even signed with the policy key) is not a service token.
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null,
            SharedAccessSignature.Build(_hub.HostName + "/devices/x", _hub.Key, _hub.KeyName, DateTimeOffset.UtcNow.AddHours(1))));
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null,
            SharedAccessSignature.Build(_hub.HostName + "/devices/x", _hub.Key, null, DateTimeOffset.UtcNow.AddHours(1))));

        // A tampered signature with a valid shape.
        string good = _hub.Token();
        string tampered = good.Replace("se=", "se=1", StringComparison.Ordinal);
        AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null, tampered));
    }

    [Fact]
    public async Task Node_sdk_style_token_with_unencoded_host_and_port_and_secondary_key_work()
    {
        long se = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        foreach (string sr in new[] { "localhost:" + _hub.Port, "localhost" })
        {
            string sig = Uri.EscapeDataString(Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(_hub.Key), Encoding.UTF8.GetBytes(sr + "\n" + se))));
            string token = $"SharedAccessSignature sr={sr}&sig={sig}&skn=iothubowner&se={se}";
            Assert.Equal(HttpStatusCode.OK, (await WithAuthorization(HttpMethod.Get, "statistics/devices", null, token)).Status);
        }
    }

    [Fact]
    public async Task A_token_valid_until_the_end_of_time_is_401_never_500_and_ten_years_is_the_longest_lifetime()
    {
        // 253402300799 = 9999-12-31T23:59:59Z, the largest expiry a DateTimeOffset holds.
        foreach (DateTimeOffset expiry in new[] { DateTimeOffset.FromUnixTimeSeconds(253402300799), DateTimeOffset.UtcNow.AddYears(11) })
        {
            string token = SharedAccessSignature.Build(_hub.HostName, _hub.Key, _hub.KeyName, expiry);
            HubResponse r = await WithAuthorization(HttpMethod.Get, "statistics/devices", null, token);
            AssertUnauthorized(r);
            Assert.Contains("more than 10 years", r.EnvelopeMessage, StringComparison.Ordinal);
        }

        string nineYears = SharedAccessSignature.Build(_hub.HostName, _hub.Key, _hub.KeyName, DateTimeOffset.UtcNow.AddYears(9));
        Assert.Equal(HttpStatusCode.OK, (await WithAuthorization(HttpMethod.Get, "statistics/devices", null, nineYears)).Status);
        Assert.Equal(0, (long)(await _hub.GetAsync("$twinps/stats")).Obj["serverErrors"]!);
    }

    [Fact]
    public async Task A_port_in_sr_must_be_one_of_the_hubs_ports_and_an_sr_without_a_port_names_the_hub()
    {
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        int mqttPort = (int)fixture.Emulator.Ready["mqttPort"]!;
        foreach (string sr in new[] { "localhost:1", "localhost:" + (_hub.Port == 65535 ? 65534 : _hub.Port + 1), "twinps-emulator.azure-devices.net:443" })
        {
            AssertUnauthorized(await WithAuthorization(HttpMethod.Get, "statistics/devices", null, SharedAccessSignature.Build(sr, _hub.Key, _hub.KeyName, expires)));
        }

        foreach (string sr in new[] { "localhost", "localhost:" + _hub.Port, "localhost:" + mqttPort, "twinps-emulator.azure-devices.net" })
        {
            HubResponse r = await WithAuthorization(HttpMethod.Get, "statistics/devices", null, SharedAccessSignature.Build(sr, _hub.Key, _hub.KeyName, expires));
            Assert.True(r.Status == HttpStatusCode.OK, $"sr={sr}: {(int)r.Status} {r.Body}");
        }
    }

    /// <summary>
    /// Every operation the emulator serves, the rights a policy needs and the data actions (prefix
    /// <c>Microsoft.Devices/IotHubs/</c>) a principal's roles must grant, written here from the evidence (not read from
    /// the emulator's table): docs/emulator-fidelity.md, "Rights per operation". No data action: bearer tokens refused.
    /// </summary>
    public static readonly (string Operation, string Method, string Path, string Rights, string DataActions)[] Operations =
    [
        ("ReadDevice", "GET", "devices/{id}", "RegistryRead", "devices/read"),
        ("ListDevices", "GET", "devices", "RegistryRead", "devices/read"),
        ("WriteDevice", "PUT", "devices/{new}", "RegistryWrite", "devices/write"),
        ("DeleteDevice", "DELETE", "devices/{id}", "RegistryWrite", "devices/delete"),
        ("BulkRegistry", "POST", "devices", "RegistryWrite", "devices/write,devices/delete"),
        ("ReadModule", "GET", "devices/{id}/modules/m1", "RegistryRead", "devices/read"),
        ("ListModules", "GET", "devices/{id}/modules", "RegistryRead", "devices/read"),
        ("WriteModule", "PUT", "devices/{id}/modules/{new}", "RegistryWrite", "devices/write"),
        ("DeleteModule", "DELETE", "devices/{id}/modules/m1", "RegistryWrite", "devices/delete"),
        ("ReadTwin", "GET", "twins/{id}", "ServiceConnect", "twins/read"),
        ("WriteTwin", "PATCH", "twins/{id}", "ServiceConnect", "twins/write"),
        ("ReplaceTwin", "PUT", "twins/{id}", "ServiceConnect", "twins/write"),
        ("ReadModuleTwin", "GET", "twins/{id}/modules/m1", "ServiceConnect", "twins/read"),
        ("WriteModuleTwin", "PATCH", "twins/{id}/modules/m1", "ServiceConnect", "twins/write"),
        ("QueryTwins", "POST", "devices/query", "RegistryRead", "twins/read"),
        ("RegistryStatistics", "GET", "statistics/devices", "RegistryRead", "statistics/read"),
        ("ServiceStatistics", "GET", "statistics/service", "ServiceConnect", "statistics/read"),
        ("InvokeMethod", "POST", "twins/{id}/methods", "ServiceConnect", "directMethods/invoke/action"),
        ("InvokeModuleMethod", "POST", "twins/{id}/modules/m1/methods", "ServiceConnect", "directMethods/invoke/action"),
        ("CreateJob", "PUT", "jobs/v2/{new}", "ServiceConnect", "jobs/write"),
        ("ReadJob", "GET", "jobs/v2/{new}", "ServiceConnect", "jobs/read"),
        ("CancelJob", "POST", "jobs/v2/{new}/cancel", "ServiceConnect", "jobs/write"),
        ("QueryJobs", "GET", "jobs/v2/query", "ServiceConnect", "jobs/read"),
        ("EmulatorStatistics", "GET", "$twinps/stats", "RegistryRead,RegistryWrite,ServiceConnect,DeviceConnect", ""),
        ("IssueEmulatorToken", "POST", "$twinps/token", "RegistryRead,RegistryWrite,ServiceConnect,DeviceConnect", ""),
    ];

    [Fact]
    public void The_operation_list_covers_every_operation_of_the_emulators_table()
    {
        // The emulator's HubOperation enum, read from its assembly (the test project does not reference it).
        var context = new System.Runtime.Loader.AssemblyLoadContext("hub-operations", isCollectible: true);
        try
        {
            Type operations = context.LoadFromAssemblyPath(Path.GetFullPath(EmulatorProcess.EmulatorDll))
                .GetType("TwinPS.Emulator.Security.HubOperation", throwOnError: true)!;
            string[] names = Enum.GetNames(operations);
            Assert.True(names.Length >= 20, string.Join(", ", names));
            Assert.Empty(names.Except(Operations.Select(o => o.Operation)));
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>The default policies' rights as IoT Hub documents them.</summary>
    private static readonly Dictionary<string, string[]> DefaultPolicies = new()
    {
        ["iothubowner"] = ["RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect"],
        ["service"] = ["ServiceConnect"],
        ["device"] = ["DeviceConnect"],
        ["registryRead"] = ["RegistryRead"],
        ["registryReadWrite"] = ["RegistryRead", "RegistryWrite"],
    };

    public static TheoryData<string, string> PolicyOperationMatrix()
    {
        var data = new TheoryData<string, string>();
        foreach (string policy in DefaultPolicies.Keys)
        {
            foreach (var op in Operations) data.Add(policy, op.Operation);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PolicyOperationMatrix))]
    public async Task Every_default_policy_gets_exactly_the_operations_its_rights_allow(string policy, string operation)
    {
        var op = Operations.Single(o => o.Operation == operation);
        bool allowed = op.Rights.Split(',').All(DefaultPolicies[policy].Contains);
        await AssertOperationAsync(fixture, _hub, policy, op, allowed);
    }

    /// <summary>Runs one operation with <paramref name="policy"/>'s token: allowed = anything but 401; refused = 401 and nothing changed.</summary>
    internal static async Task AssertOperationAsync(EmulatorFixture fixture, HubClient owner, string policy, (string Operation, string Method, string Path, string Rights, string DataActions) op, bool allowed) =>
        await AssertOperationAsync(owner, policy, () => fixture.Client(policy), null, op, allowed);

    /// <summary>
    /// Runs one operation as <paramref name="caller"/> (a client signing with a policy; with <paramref name="bearer"/>,
    /// that bearer token instead): allowed = anything but 401; refused = 401 and nothing changed.
    /// </summary>
    internal static async Task<HubResponse> AssertOperationAsync(HubClient owner, string caller, Func<HubClient> client, string? bearer, (string Operation, string Method, string Path, string Rights, string DataActions) op, bool allowed)
    {
        string id = Ids.New();
        await owner.CreateDeviceAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsync($"devices/{id}/modules/m1", $$"""{"deviceId":"{{id}}","moduleId":"m1"}""")).Status);
        string fresh = Ids.New("n");
        string path = op.Path.Replace("{id}", id, StringComparison.Ordinal).Replace("{new}", fresh, StringComparison.Ordinal);
        string jobBody = "{\"jobId\":\"" + fresh + "\",\"type\":\"scheduleUpdateTwin\",\"queryCondition\":\"deviceId = '" + id
            + "'\",\"startTime\":\"" + DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)
            + "\",\"maxExecutionTimeInSeconds\":60,\"updateTwin\":{\"etag\":\"*\",\"tags\":{\"byJob\":1}}}";
        if (op.Operation == "CancelJob")
        {
            // Something to cancel: a job scheduled for tomorrow, created by the owner.
            Assert.Equal(HttpStatusCode.OK, (await owner.PutAsync("jobs/v2/" + fresh, jobBody)).Status);
        }

        string? body = (op.Method, op.Operation) switch
        {
            (_, "BulkRegistry") => $$$"""[{"id":"{{{fresh}}}","importMode":"create"}]""",
            (_, "QueryTwins") => """{"query":"SELECT * FROM devices"}""",
            (_, "InvokeMethod" or "InvokeModuleMethod") => """{"methodName":"reboot","payload":null,"responseTimeoutInSeconds":5,"connectTimeoutInSeconds":0}""",
            (_, "IssueEmulatorToken") => """{"roles":["IoT Hub Data Reader"]}""",
            (_, "CreateJob") => jobBody,
            ("PATCH", _) => """{"tags":{"byPolicy":1}}""",
            ("PUT", "ReplaceTwin") => """{"tags":{"byPolicy":1}}""",
            ("PUT", _) => "{}",
            _ => null,
        };
        using HubClient sender = client();
        HubResponse r = await sender.SendAsync(new HttpMethod(op.Method), path, body, req =>
        {
            if (op.Method == "DELETE") req.Headers.TryAddWithoutValidation("If-Match", "*");
            if (bearer is not null)
            {
                req.Headers.Remove("Authorization");
                req.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            }
        });
        if (allowed)
        {
            // Allowed means done: a 2xx answer. The one exception is a method call to a device that is not
            // connected, which the hub answers 404 DeviceNotOnline only after the caller's rights were granted.
            bool methodToOfflineDevice = op.Operation is "InvokeMethod" or "InvokeModuleMethod"
                && r.Status == HttpStatusCode.NotFound && r.Header("iothub-errorcode") == "DeviceNotOnline";
            Assert.True((int)r.Status is >= 200 and < 300 || methodToOfflineDevice, $"{caller} {op.Operation}: {(int)r.Status} {r.Body}");
        }
        else
        {
            Assert.True(r.Status == HttpStatusCode.Unauthorized, $"{caller} {op.Operation}: {(int)r.Status} {r.Body}");
            Assert.Equal("IotHubUnauthorizedAccess", r.Header("iothub-errorcode"));
            // A refused operation changed nothing.
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync("devices/" + id)).Status);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"devices/{id}/modules/m1")).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync("devices/" + fresh)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"devices/{id}/modules/{fresh}")).Status);
            string jobAfter = (await owner.GetAsync("jobs/v2/" + fresh)).Body;
            if (op.Operation == "CancelJob")
                Assert.Contains("\"status\":\"scheduled\"", jobAfter, StringComparison.Ordinal);
            else
                Assert.DoesNotContain("scheduleUpdateTwin", jobAfter, StringComparison.Ordinal);
            Assert.Null((await owner.GetTwinAsync(id))["tags"]?["byPolicy"]);
        }

        return r;
    }

    [Fact]
    public async Task Stats_endpoint_counts_every_request_including_rejected_ones()
    {
        long before = await _hub.RequestCountAsync();
        await WithAuthorization(HttpMethod.Get, "statistics/devices", null, null);
        await _hub.SendAsync(HttpMethod.Get, "twins/x", null, addApiVersion: false);
        await _hub.GetAsync("twins/nosuch-" + Guid.NewGuid().ToString("N"));
        long after = await _hub.RequestCountAsync();
        // Exactly: the 3 requests + the first stats call (a stats call counts in the next read, not in its own answer).
        Assert.Equal(4, after - before);
    }

    [Fact]
    public async Task Server_certificate_is_trusted_only_through_the_emulator_ca()
    {
        using var plain = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"https://localhost:{_hub.Port}/statistics/devices?api-version=2021-04-12")));
        Assert.Equal(HttpStatusCode.OK, (await _hub.GetAsync("statistics/devices")).Status);
    }
}

/// <summary>Shared access policies of the user's own (<c>--policy NAME=Right,Right</c>).</summary>
public sealed class CustomPolicyTests : IClassFixture<CustomPolicyTests.Fixture>
{
    private readonly Fixture _fixture;

    public CustomPolicyTests(Fixture fixture) => _fixture = fixture;

    /// <summary>An emulator with the device-twin article's policy (ServiceConnect + RegistryRead) and a registry writer.</summary>
    public sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            Hub = new EmulatorFixture(["--policy", "serviceAndRegistryRead=ServiceConnect,RegistryRead", "--policy=provisioner=registryWrite"]);
        }

        public EmulatorFixture Hub { get; }

        public void Dispose() => Hub.Dispose();
    }

    [Fact]
    public void The_ready_line_names_each_custom_policy_with_its_connection_string()
    {
        var policies = (System.Text.Json.Nodes.JsonObject)_fixture.Hub.Emulator.Ready["policies"]!;
        Assert.Equal(["device", "iothubowner", "provisioner", "registryRead", "registryReadWrite", "service", "serviceAndRegistryRead"],
            policies.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        var cs = IoTHubConnectionString.Parse((string)policies["serviceAndRegistryRead"]!);
        Assert.Equal("serviceAndRegistryRead", cs.SharedAccessKeyName);
        Assert.Equal(7, policies.Select(p => IoTHubConnectionString.Parse((string)p.Value!).SharedAccessKey).Distinct().Count());
    }

    public static TheoryData<string, string> CustomMatrix()
    {
        var data = new TheoryData<string, string>();
        foreach (string policy in new[] { "serviceAndRegistryRead", "provisioner" })
        {
            foreach (var op in AuthTests.Operations) data.Add(policy, op.Operation);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CustomMatrix))]
    public async Task A_custom_policy_gets_exactly_the_operations_its_rights_allow(string policy, string operation)
    {
        string[] rights = policy == "provisioner" ? ["RegistryWrite"] : ["ServiceConnect", "RegistryRead"];
        var op = AuthTests.Operations.Single(o => o.Operation == operation);
        await AuthTests.AssertOperationAsync(_fixture.Hub, _fixture.Hub.Owner, policy, op, op.Rights.Split(',').All(rights.Contains));
    }
}
