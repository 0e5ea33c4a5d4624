using System.Security.Cryptography.X509Certificates;
using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

public sealed class TlsTrustTests
{
    [Fact]
    public async Task Untrusted_ca_fails_without_the_extra_ca_and_is_not_retried()
    {
        await using var server = await TestHttpsServer.StartAsync();
        server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        var options = TestClients.FastOptions();
        options.TrustedCACertificate = null;
        using var client = TestClients.For(server, options);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal(0, ex.Status);
        Assert.Equal("ConnectionError", ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Contains("certificate", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Trusted_extra_ca_is_accepted()
    {
        await using var server = await TestHttpsServer.StartAsync();
        server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        using var client = TestClients.For(server);

        var twin = await client.GetTwinAsync("d1");

        Assert.Equal("d1", twin.DeviceId);
    }

    [Fact]
    public async Task Extra_ca_from_a_pem_file_is_accepted()
    {
        await using var server = await TestHttpsServer.StartAsync();
        server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        var path = Path.Combine(Path.GetTempPath(), $"twinps-test-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(path, TestCertificates.Ca.ExportCertificatePem());
        try
        {
            var options = TestClients.FastOptions();
            options.TrustedCACertificate = null;
            options.TrustedCACertificatePath = path;
            using var client = TestClients.For(server, options);

            Assert.Equal("d1", (await client.GetTwinAsync("d1")).DeviceId);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_different_ca_is_not_accepted()
    {
        await using var server = await TestHttpsServer.StartAsync();
        var options = TestClients.FastOptions();
        options.TrustedCACertificate = TestCertificates.PublicOnly(TestCertificates.OtherCa);
        using var client = TestClients.For(server, options);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal("ConnectionError", ex.ErrorCode);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task A_name_mismatch_is_not_forgiven_by_the_extra_ca()
    {
        await using var server = await TestHttpsServer.StartAsync(TestCertificates.WrongNameServer);
        using var client = TestClients.For(server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal("ConnectionError", ex.ErrorCode);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public void A_missing_ca_file_is_a_clear_error()
    {
        var options = new IoTHubServiceClientOptions { TrustedCACertificatePath = "/nonexistent/ca.pem" };
        var cs = TwinPS.Protocol.IoTHubConnectionString.Parse($"HostName=localhost;SharedAccessKeyName=p;SharedAccessKey={TestClients.Key}");

        var ex = Assert.Throws<FileNotFoundException>(() => new IoTHubServiceClient(cs, options));
        Assert.Contains("/nonexistent/ca.pem", ex.Message, StringComparison.Ordinal);
    }
}
