using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

/// <summary>Bounded, seeded random input: the protocol code may refuse it only with its own exception types, and state invariants hold.</summary>
public class FuzzTests
{
    private const int Iterations = 2000;
    private static readonly string[] Keys = ["a", "b", "c", "d", "", "\u00e9t\u00e9", "\u043a\u043b\u044e\u0447", "a.b", "$x", "x#", "sp ace", "ctl\u0001", "c1\u0085", "z"];
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static JsonNode? RandomValue(Random rng, int depth)
    {
        var choice = rng.Next(depth > 12 ? 6 : 9);
        return choice switch
        {
            0 => null,
            1 => JsonValue.Create(rng.Next(4) switch
            {
                0 => TwinValidator.MaxSafeInteger + rng.Next(-1, 2),
                1 => TwinValidator.MinSafeInteger + rng.Next(-1, 2),
                2 => long.MaxValue,
                _ => rng.NextInt64(-1000, 1000),
            }),
            2 => JsonValue.Create(rng.Next(3) == 0 ? double.NaN : rng.NextDouble() * 1e6),
            3 => JsonValue.Create(rng.Next(2) == 0),
            4 => JsonValue.Create(RandomString(rng)),
            5 => JsonValue.Create(RandomString(rng)),
            6 or 7 => RandomObject(rng, depth + 1),
            _ => RandomArray(rng, depth + 1),
        };
    }

    private static string RandomString(Random rng)
    {
        var length = rng.Next(10) == 0 ? rng.Next(3000, 5000) : rng.Next(0, 12);
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            sb.Append(rng.Next(20) switch
            {
                0 => '\u0002',
                1 => '\u20ac',
                2 => '"',
                _ => (char)rng.Next('a', 'z' + 1),
            });
        }

        return sb.ToString();
    }

    private static JsonObject RandomObject(Random rng, int depth)
    {
        var obj = new JsonObject();
        var count = rng.Next(0, depth < 3 ? 6 : 3);
        for (var i = 0; i < count; i++)
        {
            var key = rng.Next(40) == 0 ? new string('k', rng.Next(1020, 1030)) : Keys[rng.Next(Keys.Length)];
            obj[key] = RandomValue(rng, depth);
        }

        return obj;
    }

    private static JsonArray RandomArray(Random rng, int depth)
    {
        var array = new JsonArray();
        var count = rng.Next(0, 4);
        for (var i = 0; i < count; i++)
        {
            array.Add(rng.Next(8) == 0 ? null : RandomValue(rng, depth));
        }

        return array;
    }

    private static JsonObject MaybeReparsed(Random rng, JsonObject obj)
    {
        if (rng.Next(2) == 0)
        {
            return obj;
        }

        try
        {
            return JsonNode.Parse(obj.ToJsonString())!.AsObject();
        }
        catch (ArgumentException)
        {
            return obj; // NaN cannot be written as JSON; keep the CLR-built tree.
        }
    }

    private static void AssertInvariants(TwinState twin)
    {
        AssertNoNulls(twin.Tags);
        AssertNoNulls(twin.Desired);
        AssertNoNulls(twin.Reported);
        AssertMetadataMirrors(twin.Desired, twin.DesiredMetadata, desired: true);
        AssertMetadataMirrors(twin.Reported, twin.ReportedMetadata, desired: false);
        Assert.InRange(TwinValidator.ComputeSize(twin.Tags), 0, TwinValidator.MaxTagsSize);
        Assert.InRange(TwinValidator.ComputeSize(twin.Desired), 0, TwinValidator.MaxPropertiesSize);
        Assert.InRange(TwinValidator.ComputeSize(twin.Reported), 0, TwinValidator.MaxPropertiesSize);
        Assert.Equal(twin.ToStorageJson(), TwinState.FromStorageJson(twin.ToStorageJson()).ToStorageJson());
    }

    private static void AssertNoNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, value) in obj)
                {
                    Assert.NotNull(value);
                    AssertNoNulls(value);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Assert.NotNull(item);
                    AssertNoNulls(item);
                }

                break;
        }
    }

    private static void AssertMetadataMirrors(JsonObject values, JsonObject metadata, bool desired)
    {
        Assert.NotNull(metadata["$lastUpdated"]);
        foreach (var (key, value) in values)
        {
            var child = Assert.IsType<JsonObject>(metadata[key]);
            Assert.NotNull(child["$lastUpdated"]);
            Assert.Equal(desired, child.ContainsKey("$lastUpdatedVersion"));
            if (value is JsonObject childValues)
            {
                AssertMetadataMirrors(childValues, child, desired);
            }
        }

        foreach (var (key, _) in metadata)
        {
            Assert.True(key.StartsWith('$') || values.ContainsKey(key), $"metadata key '{key}' has no value");
        }
    }

    [Fact]
    public void Random_trees_only_fail_with_validation_errors_and_keep_invariants()
    {
        var rng = new Random(20261127);
        var twin = TwinState.Create(Now);
        var accepted = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var tree = MaybeReparsed(rng, RandomObject(rng, 0));
            foreach (var kind in Enum.GetValues<TwinSectionKind>())
            {
                foreach (var mode in Enum.GetValues<TwinWriteMode>())
                {
                    try
                    {
                        TwinValidator.ValidatePatch(tree, kind, mode);
                    }
                    catch (TwinValidationException ex)
                    {
                        Assert.False(string.IsNullOrEmpty(ex.Path));
                    }
                }
            }

            var before = twin.ToStorageJson();
            try
            {
                switch (rng.Next(4))
                {
                    case 0: twin.ApplyPatch(tree, null, false, Now); break;
                    case 1: twin.ApplyPatch(null, tree, false, Now); break;
                    case 2: twin.PatchReported(tree, Now); break;
                    default: twin.Replace(rng.Next(2) == 0 ? tree : null, tree, Now); break;
                }

                accepted++;
            }
            catch (TwinValidationException)
            {
                Assert.Equal(before, twin.ToStorageJson());
            }

            AssertInvariants(twin);

            var target = RandomObject(rng, 0);
            TwinMergePatch.Apply(target, tree);
        }

        // The generator must exercise both paths.
        Assert.InRange(accepted, Iterations / 10, Iterations - (Iterations / 10));
    }

    [Fact]
    public void Random_strings_never_crash_the_parsers()
    {
        var rng = new Random(42);
        string[] pieces = ["SharedAccessSignature", " ", "sr=", "sig=", "se=", "skn=", "&", "=", "%", "%2F", "h", "123", "AAAA", "HostName=", "DeviceId=",
            "SharedAccessKey=", ";", "{", "}", "\"Message\"", ":", "\"ErrorCode:X;y\"", "\"errorCode\"", "404001", ",", "Tracking ID:", "\\u0000", "x509=true"];
        for (var i = 0; i < Iterations; i++)
        {
            var sb = new StringBuilder();
            var n = rng.Next(0, 12);
            for (var j = 0; j < n; j++)
            {
                sb.Append(pieces[rng.Next(pieces.Length)]);
            }

            var text = sb.ToString();
            try
            {
                SharedAccessSignature.Parse(text);
            }
            catch (SharedAccessSignatureFormatException)
            {
            }

            var parsedOk = IoTHubConnectionString.TryParse(text, out var cs, out var error);
            Assert.Equal(parsedOk, cs is not null);
            Assert.Equal(parsedOk, error is null);
            try
            {
                IoTHubConnectionString.Parse(text);
                Assert.True(parsedOk);
            }
            catch (FormatException)
            {
                Assert.False(parsedOk);
            }

            var info = IoTHubErrorEnvelope.Parse(rng.Next(400, 600), rng.Next(3) == 0 ? text : null, text);
            Assert.NotNull(info.Message);
            try
            {
                TwinPatchBody.Parse(text);
            }
            catch (IoTHubProtocolException)
            {
            }
        }
    }
}
