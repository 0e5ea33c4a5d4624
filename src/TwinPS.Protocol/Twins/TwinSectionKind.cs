namespace TwinPS.Protocol;

/// <summary>The three writable sections of a twin.</summary>
public enum TwinSectionKind
{
    /// <summary><c>tags</c> (backend only, not visible to devices; 8 KB).</summary>
    Tags,

    /// <summary><c>properties.desired</c> (backend writes; 32 KB).</summary>
    Desired,

    /// <summary><c>properties.reported</c> (device writes; 32 KB).</summary>
    Reported,
}

/// <summary>How a section is written: merged (PATCH; <c>null</c> deletes) or replaced (PUT; <c>null</c> is rejected).</summary>
public enum TwinWriteMode
{
    /// <summary>JSON merge patch; <c>null</c> deletes a key.</summary>
    Patch,

    /// <summary>Whole-section replacement; <c>null</c> values are rejected.</summary>
    Replace,
}
