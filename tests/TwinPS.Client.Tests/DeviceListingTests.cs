using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

/// <summary><see cref="IoTHubServiceClient.GetDevicesAsync"/>: every device through the query API, identity fields from the twins, no keys.</summary>
public sealed class DeviceListingTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _hub;

    public DeviceListingTests(EmulatorFixture hub) => _hub = hub;

    [Fact]
    public async Task Lists_every_device_page_by_page_with_the_identity_fields_and_without_keys()
    {
        var client = _hub.Client;
        var prefix = "list-" + Guid.NewGuid().ToString("N")[..6] + "-";
        var created = new Dictionary<string, DeviceIdentity>(StringComparer.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            var device = await client.CreateDeviceAsync(new DeviceIdentity(prefix + i) { IsEdge = i == 0 });
            created[device.DeviceId] = device;
        }

        var fetched = await client.GetDeviceAsync(prefix + "1");
        fetched.Status = "disabled";
        fetched.StatusReason = "maintenance";
        await client.UpdateDeviceAsync(fetched);
        var thumb = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        var x509 = await client.CreateDeviceAsync(new DeviceIdentity(prefix + "x")
        {
            AuthenticationType = DeviceAuthenticationType.SelfSigned,
            PrimaryThumbprint = thumb,
        });

        var listed = new Dictionary<string, DeviceIdentity>(StringComparer.Ordinal);
        var pages = 0;
        await foreach (var page in client.GetDevicesAsync())
        {
            pages++;
            foreach (var device in page.Where(d => d.DeviceId.StartsWith(prefix, StringComparison.Ordinal)))
            {
                listed.Add(device.DeviceId, device);
            }
        }

        Assert.True(pages >= 1);
        Assert.Equal(new[] { prefix + "0", prefix + "1", prefix + "2", prefix + "x" }, listed.Keys.Order(StringComparer.Ordinal));
        Assert.True(listed[prefix + "0"].IsEdge);
        Assert.False(listed[prefix + "2"].IsEdge);
        Assert.Equal("disabled", listed[prefix + "1"].Status);
        Assert.Equal("maintenance", listed[prefix + "1"].StatusReason);
        Assert.Equal("enabled", listed[prefix + "2"].Status);
        Assert.Equal((await client.GetDeviceAsync(prefix + "2")).ETag, listed[prefix + "2"].ETag);
        Assert.Equal(DeviceAuthenticationType.SelfSigned, listed[prefix + "x"].AuthenticationType);
        Assert.Equal(x509.PrimaryThumbprint, listed[prefix + "x"].PrimaryThumbprint, ignoreCase: true);
        Assert.All(listed.Values, d => Assert.False(d.HasSymmetricKeys));
        Assert.Equal(DeviceAuthenticationType.Sas, listed[prefix + "0"].AuthenticationType);
        Assert.NotNull(created[prefix + "0"].GetPrimaryKey()); // the identities have keys; the listing never carries them
    }
}
