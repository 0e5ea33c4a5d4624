using System.Management.Automation;

namespace TwinPS.Models;

/// <summary>How the cmdlets write their model objects: wrapped, with the model's PowerShell type name first (views and type data use it).</summary>
internal static class PSOutput
{
    /// <summary>Wraps <paramref name="value"/> with <paramref name="typeName"/> first in its type names.</summary>
    public static PSObject Typed(object value, string typeName)
    {
        var wrapped = new PSObject(value);
        wrapped.TypeNames.Insert(0, typeName);
        return wrapped;
    }
}
