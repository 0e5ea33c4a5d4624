using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using TwinPS.Protocol;

namespace TwinPS.Internal;

/// <summary>
/// Turns the <c>-Rate</c> argument of Start-IoTHubEmulator into <c>class=N/s</c> strings: a hashtable
/// (<c>@{ twinUpdate = '50/s'; query = 20 }</c>, a bare number meaning per second) or strings (<c>'twinUpdate=50/s'</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class EmulatorRateTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var rates = new List<string>();
        Add(inputData, rates);
        return rates.ToArray();
    }

    private static void Add(object? input, List<string> rates)
    {
        object? value = input is PSObject ps ? ps.BaseObject : input;
        switch (value)
        {
            case null:
                return;
            case string text:
                rates.Add(text);
                return;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    object? rate = entry.Value is PSObject p ? p.BaseObject : entry.Value;
                    string rateText = rate is string s
                        ? s
                        : Convert.ToString(rate, CultureInfo.InvariantCulture) + "/s";
                    rates.Add(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) + "=" + rateText);
                }

                return;
            case IEnumerable items:
                foreach (object? item in items)
                {
                    Add(item, rates);
                }

                return;
            default:
                rates.Add(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);
                return;
        }
    }
}

/// <summary>Checks each <c>-Rate</c> entry: a throttle class, '=', a number greater than 0, '/s' or '/min'.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed partial class ValidateEmulatorRateAttribute : ValidateEnumeratedArgumentsAttribute
{
    /// <summary>The class names, as the emulator's <c>--rate</c> takes them.</summary>
    public static readonly string Classes = string.Join(", ", ThrottleClasses.Metered.Select(ThrottleClasses.NameOf));

    protected override void ValidateElement(object element)
    {
        string text = element as string ?? Convert.ToString(element, CultureInfo.InvariantCulture) ?? string.Empty;
        Match match = RatePattern().Match(text);
        if (!match.Success
            || !ThrottleClasses.TryParse(match.Groups["c"].Value, out _)
            || !double.TryParse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double n)
            || !(n > 0) || n > 1_000_000)
        {
            throw new ValidationMetadataException(
                $"'{text}' is not a rate. Use CLASS=N/s or CLASS=N/min (N greater than 0), for example 'twinUpdate=50/s', " +
                $"or a hashtable such as @{{ twinUpdate = '50/s'; query = '20/min' }}. The classes are {Classes}.");
        }
    }

    [GeneratedRegex(@"^\s*(?<c>[A-Za-z]+)\s*=\s*(?<n>[0-9]+(\.[0-9]+)?)\s*/\s*(s|min)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RatePattern();
}
