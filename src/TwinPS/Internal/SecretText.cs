using System.Runtime.InteropServices;
using System.Security;

namespace TwinPS.Internal;

/// <summary>Reads a secret given as a string or a SecureString (connection strings), for the moment it is parsed.</summary>
internal static class SecretText
{
    /// <summary>The text of a string or SecureString (unwrapping a PSObject); null for any other type.</summary>
    public static string? From(object? value)
    {
        switch (value is System.Management.Automation.PSObject wrapped ? wrapped.BaseObject : value)
        {
            case string s:
                return s;
            case SecureString secure:
                IntPtr pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
                try
                {
                    return Marshal.PtrToStringUni(pointer) ?? string.Empty;
                }
                finally
                {
                    Marshal.ZeroFreeGlobalAllocUnicode(pointer);
                }

            default:
                return null;
        }
    }
}
