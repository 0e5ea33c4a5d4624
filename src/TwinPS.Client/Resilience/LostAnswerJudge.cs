using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Client.Resilience;

/// <summary>
/// Judges a write whose first answer was lost and whose retry was refused, by what the hub holds now. Values are
/// compared as JSON (numbers by value: <c>1</c> equals <c>1.0</c>; strings ordinal).
/// </summary>
internal static class LostAnswerJudge
{
    /// <summary>True when <paramref name="current"/> holds every change of the merge patch <paramref name="patch"/>:
    /// each non-null value equal (objects merged recursively), each null key absent.</summary>
    public static bool HoldsMergePatch(JsonObject current, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            current.TryGetPropertyValue(key, out var held);
            switch (value)
            {
                case null:
                    if (held is not null)
                    {
                        return false;
                    }

                    break;
                case JsonObject child:
                    if (held is not JsonObject heldChild || !HoldsMergePatch(heldChild, child))
                    {
                        return false;
                    }

                    break;
                default:
                    if (!Same(held, value))
                    {
                        return false;
                    }

                    break;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="current"/> holds exactly <paramref name="sent"/> (ignoring <c>$</c> keys such as
    /// <c>$metadata</c> and <c>$version</c> at any level of <paramref name="current"/>).</summary>
    public static bool HoldsExactly(JsonObject current, JsonObject sent)
    {
        var keys = current.Where(p => !p.Key.StartsWith('$')).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        if (!keys.SetEquals(sent.Where(p => !p.Key.StartsWith('$')).Select(p => p.Key)))
        {
            return false;
        }

        foreach (var key in keys)
        {
            var held = current[key];
            var value = sent[key];
            if (held is JsonObject heldObject && value is JsonObject sentObject)
            {
                if (!HoldsExactly(heldObject, sentObject))
                {
                    return false;
                }
            }
            else if (!Same(held, value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when every field <paramref name="sent"/> sets is held by <paramref name="current"/> (objects compared by the
    /// fields sent; fields sent empty, such as the empty keys that ask the hub to generate keys, are not compared).
    /// </summary>
    public static bool HoldsFields(JsonObject current, JsonObject sent, params string[] ignored)
    {
        foreach (var (key, value) in sent)
        {
            if (ignored.Contains(key, StringComparer.OrdinalIgnoreCase) || value is null || value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0)
            {
                continue;
            }

            current.TryGetPropertyValue(key, out var held);
            if (value is JsonObject sentObject)
            {
                if (held is not JsonObject heldObject || !HoldsFields(heldObject, sentObject))
                {
                    return false;
                }
            }
            else if (!Same(held, value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>JSON equality; numbers by value.</summary>
    public static bool Same(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        switch (a)
        {
            case JsonObject ao:
                return b is JsonObject bo && ao.Count == bo.Count && ao.All(p => bo.TryGetPropertyValue(p.Key, out var bv) && Same(p.Value, bv));
            case JsonArray aa:
                return b is JsonArray ba && aa.Count == ba.Count && aa.Zip(ba).All(pair => Same(pair.First, pair.Second));
        }

        if (a is not JsonValue av || b is not JsonValue bv2)
        {
            return false;
        }

        var ka = av.GetValueKind();
        var kb = bv2.GetValueKind();
        if (ka != kb)
        {
            return false;
        }

        return ka switch
        {
            JsonValueKind.String => string.Equals(a.GetValue<string>(), b.GetValue<string>(), StringComparison.Ordinal),
            JsonValueKind.Number => SameNumber(a.ToJsonString(), b.ToJsonString()),
            _ => true, // true/true, false/false, null/null
        };
    }

    private static bool SameNumber(string a, string b)
    {
        if (decimal.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var da) &&
            decimal.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var db))
        {
            return da == db;
        }

        return double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var fa) &&
            double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var fb) && fa.Equals(fb);
    }
}
