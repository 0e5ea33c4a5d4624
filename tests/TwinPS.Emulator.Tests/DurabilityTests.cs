using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

public sealed class DurabilityTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "twinps-durability-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_with_the_same_keys_and_ca()
    {
        var acknowledged = new Dictionary<string, int>();
        JsonObject ready1;
        string caPem;
        string moduleId = "m1";
        string firstDevice;
        using (EmulatorProcess first = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", _folder))
        {
            ready1 = first.Ready;
            caPem = File.ReadAllText(first.CaCertificatePath);
            Assert.Equal(Path.GetFullPath(_folder), (string)ready1["dataPath"]!);
            using var hub = new HubClient(first);

            // 16 concurrent writers; every acknowledged PATCH is recorded.
            string[] ids = Enumerable.Range(0, 16).Select(i => Ids.New("dur")).ToArray();
            firstDevice = ids[0];
            foreach (string id in ids) await hub.CreateDeviceAsync(id);
            Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync($"devices/{ids[0]}/modules/{moduleId}", "{}")).Status);
            Assert.Equal(HttpStatusCode.OK, (await hub.PatchAsync($"twins/{ids[0]}/modules/{moduleId}", """{"tags":{"mod":7}}""")).Status);
            await Task.WhenAll(ids.Select(async id =>
            {
                for (int n = 1; n <= 25; n++)
                {
                    HubResponse r = await hub.PatchAsync("twins/" + id, $$$$"""{"properties":{"desired":{"n":{{{{n}}}}}}}""");
                    Assert.Equal(HttpStatusCode.OK, r.Status);
                    lock (acknowledged) acknowledged[id] = n;
                }
            }));

            first.KillHard();
        }

        using EmulatorProcess second = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", _folder);
        Assert.Equal(caPem, File.ReadAllText(second.CaCertificatePath));
        foreach (string policy in new[] { "iothubowner", "service", "registryRead", "registryReadWrite", "device" })
        {
            string Key(JsonObject ready) => TwinPS.Protocol.IoTHubConnectionString.Parse((string)ready["policies"]![policy]!).SharedAccessKey!;
            Assert.Equal(Key(ready1), Key(second.Ready));
        }

        using var hub2 = new HubClient(second);
        foreach (var (id, n) in acknowledged)
        {
            JsonObject twin = await hub2.GetTwinAsync(id);
            Assert.Equal(n, (int)twin["properties"]!["desired"]!["n"]!);
            Assert.Equal(n + 1, (long)twin["properties"]!["desired"]!["$version"]!);
        }

        HubResponse module = await hub2.GetAsync($"twins/{firstDevice}/modules/{moduleId}");
        Assert.Equal(7, (int)module.Obj["tags"]!["mod"]!);

        // Identity etags keep moving forward after a restart (no reuse of an old etag).
        JsonObject created = await hub2.CreateDeviceAsync(Ids.New("after"));
        Assert.NotEqual("MQ==", (string)created["etag"]!);
        Assert.Equal(0, second.Stop(TimeBounds.Eventually));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
