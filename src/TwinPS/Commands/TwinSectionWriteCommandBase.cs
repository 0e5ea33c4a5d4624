using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// The writers of one twin section (Set-IoTTwinDesired, Update-IoTTwinTag): merge the section given, or with
/// <c>-Replace</c> replace it whole (confirmed as a high-impact change).
/// </summary>
public abstract class TwinSectionWriteCommandBase : TwinWriteCommandBase
{
    /// <summary>Replace the whole section (keys not given are removed) instead of merging.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <inheritdoc/>
    protected override bool IsHighImpact => Replace.IsPresent;

    /// <summary>Which section this cmdlet writes.</summary>
    private protected abstract TwinSectionKind Section { get; }

    /// <summary>The section's value as given (hashtable, ordered dictionary, PSCustomObject or JSON text) and its parameter name.</summary>
    private protected abstract (object? Value, string ParameterName) SectionInput { get; }

    /// <inheritdoc/>
    private protected override (string Operation, TwinWrite? Write) PrepareWrite()
    {
        (object? value, string parameterName) = SectionInput;
        JsonObject section = PSObjectJson.ToJsonObject(value, parameterName);
        string noun = Section == TwinSectionKind.Tags ? "tags" : "desired properties";
        if (Replace.IsPresent)
        {
            return ("Replace " + noun, TwinWrite.ReplaceSection(Section, section));
        }

        TwinPatch patch = Section == TwinSectionKind.Tags ? new TwinPatch { Tags = section } : new TwinPatch { Desired = section };
        return ("Merge " + noun, TwinWrite.Merge(patch));
    }
}
