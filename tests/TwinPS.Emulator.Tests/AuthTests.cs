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

    [Theory]
    [InlineData("service", "GET", "twins/{id}", true)]
    [InlineData("service", "PATCH", "twins/{id}", true)]
    [InlineData("service", "POST", "devices/query", true)]
    [InlineData("service", "GET", "statistics/service", true)]
    [InlineData("service", "GET", "devices/{id}", false)]
    [InlineData("service", "PUT", "devices/{new}", false)]
    [InlineData("service", "GET", "statistics/devices", false)]
    [InlineData("registryRead", "GET", "devices/{id}", true)]
    [InlineData("registryRead", "GET", "devices/{id}/modules", true)]
    [InlineData("registryRead", "GET", "statistics/devices", true)]
    [InlineData("registryRead", "PUT", "devices/{new}", false)]
    [InlineData("registryRead", "DELETE", "devices/{id}", false)]
    [InlineData("registryRead", "GET", "twins/{id}", false)]
    [InlineData("registryRead", "POST", "devices/query", false)]
    [InlineData("registryReadWrite", "PUT", "devices/{new}", true)]
    [InlineData("registryReadWrite", "POST", "devices", true)]
    [InlineData("registryReadWrite", "GET", "twins/{id}", false)]
    [InlineData("registryReadWrite", "PATCH", "twins/{id}", false)]
    [InlineData("device", "GET", "devices/{id}", false)]
    [InlineData("device", "GET", "twins/{id}", false)]
    [InlineData("device", "PUT", "devices/{new}", false)]
    [InlineData("service", "GET", "$twinps/stats", false)]
    [InlineData("iothubowner", "GET", "$twinps/stats", true)]
    public async Task Policy_rights_are_enforced(string policy, string method, string pathTemplate, bool allowed)
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        string fresh = Ids.New();
        string path = pathTemplate.Replace("{id}", id, StringComparison.Ordinal).Replace("{new}", fresh, StringComparison.Ordinal);
        string? body = method switch
        {
            "PATCH" => """{"tags":{"byPolicy":1}}""",
            "PUT" => "{}",
            "POST" when path == "devices" => $$$$"""[{"id":"{{{{fresh}}}}","importMode":"create"}]""",
            "POST" => """{"query":"SELECT * FROM devices"}""",
            _ => null,
        };
        using HubClient client = fixture.Client(policy);
        HubResponse r = await client.SendAsync(new HttpMethod(method), path, body, req =>
        {
            if (method == "DELETE") req.Headers.TryAddWithoutValidation("If-Match", "*");
        });
        if (allowed)
        {
            Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.NoContent, $"{policy} {method} {path}: {(int)r.Status} {r.Body}");
        }
        else
        {
            AssertUnauthorized(r);
            // A refused write changed nothing.
            Assert.Equal(HttpStatusCode.OK, (await _hub.GetAsync("devices/" + id)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + fresh)).Status);
            Assert.Null((await _hub.GetTwinAsync(id))["tags"]!["byPolicy"]);
        }
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
