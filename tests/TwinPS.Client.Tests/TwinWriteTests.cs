using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests;

/// <summary>
/// <see cref="IoTHubServiceClient.WriteTwinAsync"/> and <see cref="TwinWrite"/>: a write is checked once when it is made,
/// a section replacement reads, diffs and PATCHes conditionally, confirmation sees the exact first request, and a forced
/// replacement that loses a race reads again. Against the emulator, and a scripted server for the race.
/// </summary>
public sealed class TwinWriteTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _hub;

    public TwinWriteTests(EmulatorFixture hub) => _hub = hub;

    private IoTHubServiceClient Client => _hub.Client;

    private async Task<IoTHubTwin> NewTwinAsync(string prefix)
    {
        var id = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CreateDeviceAsync(new DeviceIdentity(id));
        return await Client.UpdateTwinAsync(id, null, new TwinPatch
        {
            Tags = new() { ["site"] = "a", ["floor"] = 3 },
            Desired = new() { ["mode"] = "eco", ["fan"] = new JsonObject { ["speed"] = 2, ["auto"] = true } },
        });
    }

    [Fact]
    public void A_write_is_checked_when_it_is_made_and_names_the_key()
    {
        var badKey = Assert.Throws<TwinValidationException>(() => TwinWrite.Merge(new TwinPatch { Desired = new() { ["a.b"] = 1 } }));
        Assert.Contains("a.b", badKey.Message, StringComparison.Ordinal);

        // A read-only key is refused in a write made from input; the client's UpdateTwinAsync leaves it out (a twin read back).
        Assert.Throws<TwinValidationException>(() => TwinWrite.Merge(new TwinPatch { Desired = new() { ["$version"] = 4, ["x"] = 1 } }));
        Assert.Throws<TwinValidationException>(() => TwinWrite.ReplaceSection(TwinSectionKind.Tags, new JsonObject { ["gone"] = null }));
        Assert.Throws<TwinValidationException>(() => TwinWrite.Replace(null, new JsonObject { ["gone"] = null }));
        Assert.Throws<ArgumentException>(() => TwinWrite.Merge(new TwinPatch()));
        Assert.Throws<ArgumentOutOfRangeException>(() => TwinWrite.ReplaceSection(TwinSectionKind.Reported, []));
    }

    [Fact]
    public async Task A_read_back_desired_section_is_still_accepted_by_UpdateTwinAsync()
    {
        var twin = await NewTwinAsync("readback");
        var desired = (JsonObject)twin.Desired.DeepClone(); // carries $metadata and $version
        desired["mode"] = "turbo";

        var updated = await Client.UpdateTwinAsync(twin.DeviceId, null, new TwinPatch { Desired = desired });

        Assert.Equal("turbo", updated.Desired["mode"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_merge_is_sent_to_each_twin_with_the_given_etag_and_the_confirmation_sees_the_exact_request()
    {
        var first = await NewTwinAsync("merge");
        var second = await NewTwinAsync("merge");
        var write = TwinWrite.Merge(new TwinPatch { Tags = new() { ["site"] = "b", ["floor"] = null } });
        var asked = new List<TwinWriteRequest>();
        Task<bool> Confirm(TwinWriteRequest request)
        {
            asked.Add(request);
            return Task.FromResult(true);
        }

        var a = await Client.WriteTwinAsync(first.DeviceId, null, write, new TwinWriteOptions { IfMatch = first.ETag, ConfirmAsync = Confirm });
        var b = await Client.WriteTwinAsync(second.DeviceId, null, write, new TwinWriteOptions { ConfirmAsync = Confirm });

        Assert.Equal("b", a!.Tags["site"]!.GetValue<string>());
        Assert.False(a.Tags.ContainsKey("floor"));
        Assert.Equal("b", b!.Tags["site"]!.GetValue<string>());
        Assert.Equal(2, asked.Count);
        Assert.Equal($"Merge tags: PATCH {{\"tags\":{{\"site\":\"b\",\"floor\":null}}}} with If-Match: \"{first.ETag}\"", asked[0].Describe("Merge tags"));
        Assert.Equal("Merge tags: PATCH {\"tags\":{\"site\":\"b\",\"floor\":null}}", asked[1].Describe("Merge tags"));

        var stale = await Assert.ThrowsAsync<IoTHubServiceException>(() =>
            Client.WriteTwinAsync(first.DeviceId, null, write, new TwinWriteOptions { IfMatch = first.ETag }));
        Assert.Equal(412, stale.Status);
        Assert.Equal(first.DeviceId, stale.DeviceId);

        var forced = await Client.WriteTwinAsync(first.DeviceId, null, TwinWrite.Merge(new TwinPatch { Tags = new() { ["site"] = "c" } }),
            new TwinWriteOptions { IfMatch = first.ETag, Force = true, ConfirmAsync = Confirm });
        Assert.Equal("c", forced!.Tags["site"]!.GetValue<string>());
        Assert.Equal("*", asked[^1].IfMatch);
    }

    [Fact]
    public async Task A_refused_confirmation_sends_nothing()
    {
        var twin = await NewTwinAsync("refused");
        foreach (var write in new[]
        {
            TwinWrite.Merge(new TwinPatch { Desired = new() { ["mode"] = "off" } }),
            TwinWrite.ReplaceSection(TwinSectionKind.Desired, new JsonObject { ["mode"] = "off" }),
            TwinWrite.Replace(new JsonObject(), new JsonObject()),
        })
        {
            var result = await Client.WriteTwinAsync(twin.DeviceId, null, write, new TwinWriteOptions { ConfirmAsync = _ => Task.FromResult(false) });
            Assert.Null(result);
        }

        var now = await Client.GetTwinAsync(twin.DeviceId);
        Assert.Equal(twin.ETag, now.ETag);
    }

    [Fact]
    public async Task Replacing_a_section_removes_what_is_left_out_and_keeps_the_other_section()
    {
        var twin = await NewTwinAsync("section");
        TwinWriteRequest? sent = null;

        var replaced = await Client.WriteTwinAsync(twin.DeviceId, null,
            TwinWrite.ReplaceSection(TwinSectionKind.Desired, new JsonObject { ["mode"] = "eco", ["fan"] = new JsonObject { ["speed"] = 3 } }),
            new TwinWriteOptions { ConfirmAsync = r => { sent = r; return Task.FromResult(true); } });

        Assert.NotNull(sent);
        Assert.Equal("PATCH", sent.Method);
        // The new section, with every key it no longer has as null.
        Assert.Equal("""{"properties":{"desired":{"mode":"eco","fan":{"speed":3,"auto":null}}}}""", sent.Body.ToJsonString());
        Assert.Equal(twin.ETag, sent.IfMatch); // the etag read makes the write conditional
        Assert.Equal("eco", replaced!.Desired["mode"]!.GetValue<string>());
        Assert.Equal(3, replaced.Desired["fan"]!["speed"]!.GetValue<int>());
        Assert.False(((JsonObject)replaced.Desired["fan"]!).ContainsKey("auto"));
        Assert.Equal("a", replaced.Tags["site"]!.GetValue<string>());
        Assert.Equal(3, replaced.Tags["floor"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_section_replacement_diffs_against_a_held_twin_and_fails_when_the_twin_changed_since()
    {
        var held = await NewTwinAsync("held");
        await Client.UpdateTwinAsync(held.DeviceId, null, new TwinPatch { Tags = new() { ["extra"] = true } });
        var write = TwinWrite.ReplaceSection(TwinSectionKind.Tags, new JsonObject { ["site"] = "z" });
        TwinWriteRequest? sent = null;

        var conflict = await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.WriteTwinAsync(held.DeviceId, null, write,
            new TwinWriteOptions { Current = held, ConfirmAsync = r => { sent = r; return Task.FromResult(true); } }));

        Assert.Equal(412, conflict.Status);
        // Diffed against the held copy (which has no 'extra'), conditional on its etag: the newer twin is not overwritten.
        Assert.Equal("""{"tags":{"site":"z","floor":null}}""", sent!.Body.ToJsonString());
        Assert.Equal(held.ETag, sent.IfMatch);
        Assert.True((await Client.GetTwinAsync(held.DeviceId)).Tags["extra"]!.GetValue<bool>());

        // Forced: the twin is read afresh, so the newer key is removed too.
        var forced = await Client.WriteTwinAsync(held.DeviceId, null, write, new TwinWriteOptions { Current = held, Force = true });
        Assert.Equal("""{"site":"z"}""", forced!.Tags.ToJsonString());
    }

    [Fact]
    public async Task A_forced_section_replacement_that_loses_a_race_reads_again_up_to_three_times()
    {
        await using var server = await TestHttpsServer.StartAsync();
        var patches = 0;
        var conflicts = 2;
        server.Handler = (req, ctx) =>
        {
            if (req.Method == "PATCH")
            {
                return Interlocked.Increment(ref patches) <= Volatile.Read(ref conflicts)
                    ? TestHttpsServer.ReplyError(ctx, 412, "PreconditionFailed")
                    : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("race", "AAAAAAAAAAk="));
            }

            return TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("race", "AAAAAAAAAAI="));
        };
        using var client = TestClients.For(server);
        var write = TwinWrite.ReplaceSection(TwinSectionKind.Tags, new JsonObject { ["k"] = 1 });
        var retries = new List<string>();
        var confirmations = 0;
        var options = new TwinWriteOptions
        {
            Force = true,
            Retrying = retries.Add,
            ConfirmAsync = _ => { confirmations++; return Task.FromResult(true); },
        };

        var twin = await client.WriteTwinAsync("race", null, write, options);

        Assert.Equal("AAAAAAAAAAk=", twin!.ETag);
        Assert.Equal("GET,PATCH,GET,PATCH,GET,PATCH", string.Join(",", server.Requests.Select(r => r.Method)));
        Assert.All(server.Requests.Where(r => r.Method == "PATCH"), r => Assert.Equal("\"AAAAAAAAAAI=\"", r.Header("If-Match")));
        Assert.Equal(2, retries.Count);
        Assert.Contains("race", retries[0], StringComparison.Ordinal);
        Assert.Equal(1, confirmations);

        // A third lost race ends the write with the 412; without -Force the first one does.
        Interlocked.Exchange(ref patches, 0);
        Volatile.Write(ref conflicts, 3);
        Assert.Equal(412, (await Assert.ThrowsAsync<IoTHubServiceException>(() => client.WriteTwinAsync("race", null, write, options))).Status);
        Interlocked.Exchange(ref patches, 0);
        Assert.Equal(412, (await Assert.ThrowsAsync<IoTHubServiceException>(() => client.WriteTwinAsync("race", null, write))).Status);
        Assert.Equal(1, Volatile.Read(ref patches));
    }

    [Fact]
    public async Task A_replacement_is_one_PUT_of_both_sections_with_the_given_etag()
    {
        var twin = await NewTwinAsync("put");
        TwinWriteRequest? sent = null;

        var replaced = await Client.WriteTwinAsync(twin.DeviceId, null, TwinWrite.Replace(new JsonObject { ["only"] = 1 }, null),
            new TwinWriteOptions { IfMatch = twin.ETag, ConfirmAsync = r => { sent = r; return Task.FromResult(true); } });

        Assert.Equal("PUT", sent!.Method);
        Assert.Equal("""{"tags":{"only":1},"properties":{"desired":{}}}""", sent.Body.ToJsonString());
        Assert.Equal("""{"only":1}""", replaced!.Tags.ToJsonString());
        Assert.DoesNotContain(replaced.Desired, p => !p.Key.StartsWith('$'));
        Assert.Equal(412, (await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.WriteTwinAsync(twin.DeviceId, null,
            TwinWrite.Replace(null, null), new TwinWriteOptions { IfMatch = twin.ETag }))).Status);
    }
}
