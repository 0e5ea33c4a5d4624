using System.Collections;
using System.Reflection;

namespace TwinPS.Loader;

/// <summary>
/// PowerShell resolves <c>[TypeName]</c> only among the assemblies of the default load context, so the module's public
/// types (which live in TwinPS's own context) are registered as PowerShell type accelerators of their own full names:
/// <c>[TwinPS.Models.Twin]</c>, <c>-is</c> and <c>-as</c> keep working. Done here in one call, by reflection on
/// PowerShell's (non-public) <c>System.Management.Automation.TypeAccelerators</c> class, which the root module passes
/// in; this assembly references nothing but the framework.
/// </summary>
public static class TypeAccelerators
{
    /// <summary>Adds an accelerator for every public type of <paramref name="assembly"/> whose name is not taken; returns the names added.</summary>
    public static string[] Add(Type typeAccelerators, Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(typeAccelerators);
        ArgumentNullException.ThrowIfNull(assembly);
        IDictionary existing = Existing(typeAccelerators);
        MethodInfo add = typeAccelerators.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(Type)])
            ?? throw new InvalidOperationException("PowerShell's TypeAccelerators class has no Add(string, Type) method.");
        var added = new List<string>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            string? name = type.FullName;
            if (name is null || existing.Contains(name))
            {
                continue;
            }

            add.Invoke(null, [name, type]);
            added.Add(name);
        }

        return [.. added];
    }

    /// <summary>Removes the accelerators named in <paramref name="names"/> that still point into <paramref name="assembly"/>.</summary>
    public static void Remove(Type typeAccelerators, Assembly assembly, string[]? names)
    {
        ArgumentNullException.ThrowIfNull(typeAccelerators);
        ArgumentNullException.ThrowIfNull(assembly);
        if (names is null || names.Length == 0)
        {
            return;
        }

        IDictionary existing = Existing(typeAccelerators);
        MethodInfo remove = typeAccelerators.GetMethod("Remove", BindingFlags.Public | BindingFlags.Static, [typeof(string)])
            ?? throw new InvalidOperationException("PowerShell's TypeAccelerators class has no Remove(string) method.");
        foreach (string name in names)
        {
            if (existing[name] is Type type && type.Assembly == assembly)
            {
                remove.Invoke(null, [name]);
            }
        }
    }

    private static IDictionary Existing(Type typeAccelerators) =>
        typeAccelerators.GetProperty("Get", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as IDictionary
            ?? throw new InvalidOperationException("PowerShell's TypeAccelerators class has no Get dictionary.");
}
