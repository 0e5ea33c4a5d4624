using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>
/// Bearer tokens of the emulator's own token issuer (the test stand-in for Microsoft Entra ID): the test token
/// endpoint, signature/issuer/audience/expiry checks, and the IoT Hub data-plane roles mapped to operations.
/// </summary>
public sealed class EntraTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private const string Reader = "IoT Hub Data Reader";
    private const string Contributor = "IoT Hub Data Contributor";
    private const string Registry = "IoT Hub Registry Contributor";
    private const string Twins = "IoT Hub Twin Contributor";

    private readonly HubClient _owner = fixture.Owner;

    internal static async Task<HubResponse> RequestTokenAsync(HubClient owner, object body) =>
        await owner.PostAsync("$twinps/token", System.Text.Json.JsonSerializer.Serialize(body));

    internal static async Task<string> TokenAsync(HubClient owner, string[] roles, long lifetimeSeconds = 3600, string? audience = null)
    {
        var body = new Dictionary<string, object> { ["roles"] = roles, ["lifetimeSeconds"] = lifetimeSeconds };
        if (audience is not null) body["audience"] = audience;
        HubResponse r = await RequestTokenAsync(owner, body);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("Bearer", (string?)r.Obj["tokenType"]);
        return (string)r.Obj["accessToken"]!;
    }

    private Task<HubResponse> WithBearer(string token, HttpMethod method, string path, string? body, string? ifMatch = null) =>
        _owner.SendAsync(method, path, body, r =>
        {
            r.Headers.Remove("Authorization");
            r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            if (ifMatch is not null) r.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        });

    private static void AssertUnauthorized(HubResponse r, string messagePart)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
        Assert.Equal("IotHubUnauthorizedAccess", r.Header("iothub-errorcode"));
        Assert.Contains(messagePart, r.EnvelopeMessage, StringComparison.Ordinal);
    }

    /// <summary>
    /// What each built-in role grants, from Microsoft's built-in roles page (REST reference §8), written here
    /// independently of the emulator: Data Reader <c>*/read</c>; Twin Contributor <c>twins/*</c>; Registry
    /// Contributor <c>devices/*</c>; Data Contributor <c>*</c>.
    /// </summary>
    private static bool Grants(string role, string dataAction) => role switch
    {
        Reader => dataAction.EndsWith("/read", StringComparison.Ordinal),
        Twins => dataAction.StartsWith("twins/", StringComparison.Ordinal),
        Registry => dataAction.StartsWith("devices/", StringComparison.Ordinal),
        Contributor => true,
        _ => false,
    };

    public static TheoryData<string, string> RoleMatrix()
    {
        var data = new TheoryData<string, string>();
        foreach (string role in new[] { Reader, Twins, Registry, Contributor })
        {
            foreach (var op in AuthTests.Operations) data.Add(role, op.Operation);
        }

        return data;
    }

    private static readonly Dictionary<string, Task<string>> RoleTokens = new(StringComparer.Ordinal);

    private Task<string> RoleTokenAsync(string role)
    {
        lock (RoleTokens)
        {
            if (!RoleTokens.TryGetValue(role, out Task<string>? token))
            {
                token = TokenAsync(_owner, [role]);
                RoleTokens[role] = token;
            }

            return token;
        }
    }

    [Theory]
    [MemberData(nameof(RoleMatrix))]
    public async Task Every_role_gets_exactly_the_operations_its_data_actions_allow(string role, string operation)
    {
        var op = AuthTests.Operations.Single(o => o.Operation == operation);
        string[] actions = op.DataActions.Split(',', StringSplitOptions.RemoveEmptyEntries);
        bool allowed = actions.Length > 0 && actions.All(a => Grants(role, a));
        string token = await RoleTokenAsync(role);
        HubResponse r = await AuthTests.AssertOperationAsync(_owner, role, () => fixture.Client("iothubowner"), token, op, allowed);
        if (!allowed)
        {
            // IoT Hub answers 401 (not 403) for a principal without the role, naming the principal and the action.
            Assert.DoesNotContain(token, r.Body, StringComparison.Ordinal);
            if (actions.Length == 0)
            {
                Assert.Contains("bearer tokens are not accepted", r.EnvelopeMessage, StringComparison.Ordinal);
            }
            else
            {
                string missing = actions.First(a => !Grants(role, a));
                Assert.Contains("is not authorized for Microsoft.Devices/IotHubs/" + missing + " due to no assigned permissions", r.EnvelopeMessage, StringComparison.Ordinal);
                Assert.Contains(role, r.EnvelopeMessage, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task A_refused_write_changes_nothing()
    {
        string id = Ids.New();
        await _owner.CreateDeviceAsync(id);
        string reader = await TokenAsync(_owner, [Reader]);
        AssertUnauthorized(await WithBearer(reader, HttpMethod.Patch, "twins/" + id, """{"tags":{"owner":"reader"}}""", "*"), "twins/write");
        JsonObject twin = await _owner.GetTwinAsync(id);
        Assert.Null(twin["tags"]?["owner"]);
        Assert.Equal(HttpStatusCode.OK, (await WithBearer(reader, HttpMethod.Get, "twins/" + id, null)).Status);
    }

    [Fact]
    public async Task Two_roles_grant_the_union()
    {
        string id = Ids.New();
        string token = await TokenAsync(_owner, [Registry, Twins]);
        Assert.Equal(HttpStatusCode.OK, (await WithBearer(token, HttpMethod.Put, "devices/" + id, $$"""{"deviceId":"{{id}}"}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await WithBearer(token, HttpMethod.Patch, "twins/" + id, """{"tags":{"a":1}}""", "*")).Status);
        AssertUnauthorized(await WithBearer(token, HttpMethod.Get, "statistics/devices", null), "statistics/read");
    }

    [Fact]
    public async Task Expired_tokens_are_refused_beyond_the_clock_skew()
    {
        // Expired 10 minutes ago: past the default 60 s skew.
        string expired = await TokenAsync(_owner, [Contributor], lifetimeSeconds: -600);
        AssertUnauthorized(await WithBearer(expired, HttpMethod.Get, "devices", null), "the bearer token has expired");

        // Expired 10 s ago: still inside the default skew of 60 s.
        string justExpired = await TokenAsync(_owner, [Contributor], lifetimeSeconds: -10);
        Assert.Equal(HttpStatusCode.OK, (await WithBearer(justExpired, HttpMethod.Get, "devices", null)).Status);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused()
    {
        string token = await TokenAsync(_owner, [Contributor], audience: "https://management.azure.com");
        AssertUnauthorized(await WithBearer(token, HttpMethod.Get, "devices", null), "audience is not https://iothubs.azure.net");
    }

    [Fact]
    public async Task A_tampered_or_foreign_token_is_refused()
    {
        string token = await TokenAsync(_owner, [Reader]);
        string[] parts = token.Split('.');
        // Same signature, payload changed to claim Data Contributor.
        JsonObject payload = JsonNode.Parse(Base64UrlDecode(parts[1]))!.AsObject();
        payload["roles"] = new JsonArray(Contributor);
        string forged = parts[0] + "." + Base64UrlEncode(Encoding.UTF8.GetBytes(payload.ToJsonString())) + "." + parts[2];
        AssertUnauthorized(await WithBearer(forged, HttpMethod.Put, "devices/" + Ids.New(), """{"deviceId":"x"}"""), "signature is not valid");

        // Unsigned ("alg":"none") tokens are never accepted.
        string none = Base64UrlEncode("""{"alg":"none","typ":"JWT"}"""u8.ToArray()) + "." + parts[1] + ".";
        AssertUnauthorized(await WithBearer(none, HttpMethod.Get, "devices", null), "Unauthorized");
    }

    [Fact]
    public async Task The_token_endpoint_needs_the_owner_policy_and_valid_input()
    {
        using HubClient service = fixture.Client("service");
        HubResponse r = await RequestTokenAsync(service, new { roles = new[] { Contributor } });
        AssertUnauthorized(r, "the shared access policy 'service' does not grant");

        string bearer = await TokenAsync(_owner, [Contributor]);
        AssertUnauthorized(await WithBearer(bearer, HttpMethod.Post, "$twinps/token", """{"roles":["IoT Hub Data Contributor"]}"""),
            "IssueEmulatorToken needs a shared access policy");

        foreach (string bad in new[]
        {
            """{"roles":[]}""", """{"roles":["Owner"]}""", """{"roles":"IoT Hub Data Reader"}""", """{}""",
            """{"roles":["IoT Hub Data Reader"],"lifetimeSeconds":86401}""", """{"roles":["IoT Hub Data Reader"],"lifetimeSeconds":1.5}""",
            """{"roles":["IoT Hub Data Reader"],"principalId":"not-a-guid"}""", """{"roles":["IoT Hub Data Reader"],"audience":""}""",
        })
        {
            HubResponse refused = await _owner.PostAsync("$twinps/token", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Equal("ArgumentInvalid", refused.Header("iothub-errorcode"));
        }

        // Role definition ids are accepted for the names.
        HubResponse byId = await _owner.PostAsync("$twinps/token", """{"roles":["b447c946-2db7-41ec-983d-d8bf3b1c77e3"]}""");
        Assert.Equal(HttpStatusCode.OK, byId.Status);
    }

    [Fact]
    public async Task The_principal_id_is_kept_across_tokens()
    {
        string principal = Guid.NewGuid().ToString();
        HubResponse r = await RequestTokenAsync(_owner, new { roles = new[] { Reader }, principalId = principal });
        JsonObject payload = JsonNode.Parse(Base64UrlDecode(((string)r.Obj["accessToken"]!).Split('.')[1]))!.AsObject();
        Assert.Equal(principal, (string?)payload["oid"]);
        Assert.Equal("https://iothubs.azure.net", (string?)payload["aud"]);
        Assert.StartsWith("https://twinps-emulator.invalid/", (string?)payload["iss"], StringComparison.Ordinal);

        // A principal without the role is named in the refusal.
        HubResponse refused = await WithBearer((string)r.Obj["accessToken"]!, HttpMethod.Delete, "devices/" + Ids.New(), null, "*");
        AssertUnauthorized(refused, "Principal " + principal);
    }

    internal static byte[] Base64UrlDecode(string text)
    {
        string s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>The issuer's signing key and clock skew across emulator processes (each test starts its own).</summary>
public sealed class EntraKeyTests
{
    [Fact]
    public async Task The_signing_key_is_kept_owner_only_in_the_data_folder_and_tokens_survive_a_restart()
    {
        string data = Path.Combine(Path.GetTempPath(), "twinps-entra-" + Guid.NewGuid().ToString("N"));
        try
        {
            string token;
            using (var first = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", data))
            using (var owner = new HubClient(first))
            {
                token = await EntraTests.TokenAsync(owner, ["IoT Hub Data Reader"]);
            }

            string keyFile = Path.Combine(data, "entra-signing-key.pem");
            Assert.True(File.Exists(keyFile));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Contains("PRIVATE KEY", await File.ReadAllTextAsync(keyFile), StringComparison.Ordinal);

            using (var second = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", data))
            using (var owner = new HubClient(second))
            {
                HubResponse r = await owner.SendAsync(HttpMethod.Get, "devices", null, m =>
                {
                    m.Headers.Remove("Authorization");
                    m.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                });
                Assert.Equal(HttpStatusCode.OK, r.Status);
            }

            // Another data folder means another key: the token does not validate there.
            using (var other = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory"))
            using (var owner = new HubClient(other))
            {
                HubResponse r = await owner.SendAsync(HttpMethod.Get, "devices", null, m =>
                {
                    m.Headers.Remove("Authorization");
                    m.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                });
                Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
                Assert.Contains("signature is not valid", r.EnvelopeMessage, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_zero_clock_skew_refuses_a_token_just_past_its_expiry()
    {
        using var emulator = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory", "--entra-clock-skew", "0");
        using var owner = new HubClient(emulator);
        string justExpired = await EntraTests.TokenAsync(owner, ["IoT Hub Data Reader"], lifetimeSeconds: -2);
        HubResponse r = await owner.SendAsync(HttpMethod.Get, "devices", null, m =>
        {
            m.Headers.Remove("Authorization");
            m.Headers.TryAddWithoutValidation("Authorization", "Bearer " + justExpired);
        });
        Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
        Assert.Contains("expired", r.EnvelopeMessage, StringComparison.Ordinal);
    }
}
