using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;

namespace TwinPS.Client.Tests.Device;

/// <summary>
/// Desired-version tracking on its own, fed the notifications and twin reads the hub would send: each version raised
/// once and in order, a gap answered by one twin read and one synthetic patch.
/// </summary>
public sealed class DesiredPropertiesTrackerTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public void Notifications_are_raised_once_in_version_order_and_older_ones_are_dropped()
    {
        var raised = new List<DesiredPropertiesEventArgs>();
        var tracker = new DesiredPropertiesTracker(raised.Add, _ => Task.CompletedTask, CancellationToken.None);
        tracker.Reconcile(Twin("""{"mode":"a"}""", 3), raiseSynthetic: false);

        tracker.OnNotification(4, Bytes("""{"mode":"b","$version":4}"""));
        tracker.OnNotification(4, Bytes("""{"mode":"b","$version":4}"""));
        tracker.OnNotification(3, Bytes("""{"mode":"old","$version":3}"""));
        tracker.OnNotification(null, Bytes("""{"level":1,"$version":5}"""));

        Assert.Equal([4L, 5L], raised.Select(r => r.Version));
        Assert.All(raised, r => Assert.False(r.IsSynthetic));
        Assert.Equal("b", (string?)raised[0].Patch["mode"]);
        Assert.False(raised[0].Patch.ContainsKey("$version"));
        Assert.Equal(5, tracker.DesiredVersion);
    }

    [Fact]
    public async Task A_gap_in_versions_reads_the_twin_and_raises_what_was_missed_as_one_synthetic_patch()
    {
        var raised = new ConcurrentQueue<DesiredPropertiesEventArgs>();
        using var synthetic = new SemaphoreSlim(0);
        var reads = 0;
        DesiredPropertiesTracker? tracker = null;
        tracker = new DesiredPropertiesTracker(
            args =>
            {
                raised.Enqueue(args);
                if (args.IsSynthetic) synthetic.Release();
            },
            _ =>
            {
                Interlocked.Increment(ref reads);
                tracker!.Reconcile(Twin("""{"mode":"c","level":2}""", 7), raiseSynthetic: true);
                return Task.CompletedTask;
            },
            CancellationToken.None);
        tracker.Reconcile(Twin("""{"mode":"a","gone":true}""", 5), raiseSynthetic: false);

        // Version 6 was missed: 7 alone would leave its change out.
        tracker.OnNotification(7, Bytes("""{"level":2,"$version":7}"""));

        Assert.True(await synthetic.WaitAsync(Generous));
        var only = Assert.Single(raised);
        Assert.True(only.IsSynthetic);
        Assert.Equal(7, only.Version);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"mode":"c","gone":null,"level":2}"""), only.Patch));
        Assert.Equal(1, Volatile.Read(ref reads));
        Assert.Equal(7, tracker.DesiredVersion);
    }

    [Fact]
    public void A_twin_read_older_than_the_last_notification_changes_nothing()
    {
        var raised = new List<DesiredPropertiesEventArgs>();
        var tracker = new DesiredPropertiesTracker(raised.Add, _ => Task.CompletedTask, CancellationToken.None);
        tracker.Reconcile(Twin("""{"mode":"a"}""", 1), raiseSynthetic: false);
        tracker.OnNotification(2, Bytes("""{"mode":"b","$version":2}"""));

        tracker.Reconcile(Twin("""{"mode":"a"}""", 1), raiseSynthetic: true);

        Assert.Single(raised);
        Assert.Equal(2, tracker.DesiredVersion);
    }

    private static DeviceTwinProperties Twin(string desired, long version) =>
        new((JsonObject)JsonNode.Parse(desired)!, version, new JsonObject(), 1);

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);
}
