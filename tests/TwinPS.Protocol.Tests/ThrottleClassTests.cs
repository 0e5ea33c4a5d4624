using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public sealed class ThrottleClassTests
{
    [Fact]
    public void Every_metered_class_has_a_name_that_parses_back_and_an_operation_type()
    {
        Assert.Equal(7, ThrottleClasses.Metered.Count);
        Assert.DoesNotContain(ThrottleClass.Other, ThrottleClasses.Metered);
        foreach (var c in ThrottleClasses.Metered)
        {
            Assert.True(ThrottleClasses.TryParse(ThrottleClasses.NameOf(c).ToUpperInvariant(), out var parsed));
            Assert.Equal(c, parsed);
            Assert.False(string.IsNullOrEmpty(ThrottleClasses.OperationType(c)));
            Assert.InRange((int)c, 0, ThrottleClasses.SlotCount - 1);
        }

        Assert.False(ThrottleClasses.TryParse("other", out _));
        Assert.False(ThrottleClasses.TryParse(null, out _));
        Assert.Equal("CRUD", ThrottleClasses.OperationType(ThrottleClass.Registry));
    }

    [Theory]
    [InlineData("S1", ThrottleClass.TwinUpdate, 1, 50.0)]
    [InlineData("S1", ThrottleClass.TwinUpdate, 200, 50.0)]
    [InlineData("S2", ThrottleClass.TwinUpdate, 20, 100.0)]
    [InlineData("S3", ThrottleClass.TwinUpdate, 2, 500.0)]
    [InlineData("F1", ThrottleClass.TwinRead, 1, 100.0)]
    [InlineData("S1", ThrottleClass.Query, 3, 1.0)]
    [InlineData("S1", ThrottleClass.Registry, 6, 10.0)]
    [InlineData("S1", ThrottleClass.JobDevice, 1, 10.0)]
    [InlineData("S1", ThrottleClass.Method, 2, 80.0)]
    [InlineData("S3", ThrottleClass.Method, 1, 6144.0)]
    public void Published_rates_per_tier_and_unit(string tier, ThrottleClass throttleClass, int units, double perSecond) =>
        Assert.Equal(perSecond, ThrottleClasses.RatePerSecond(tier, throttleClass, units), 9);

    [Fact]
    public void Unmetered_classes_have_no_rate() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ThrottleClasses.RatePerSecond("S1", ThrottleClass.Other, 1));
}
