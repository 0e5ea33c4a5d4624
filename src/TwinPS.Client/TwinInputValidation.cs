using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Client;

/// <summary>Runs the Protocol's twin rules on request bodies before anything is sent.</summary>
internal static class TwinInputValidation
{
    public static void ValidatePatch(JsonObject body) => Validate(body, TwinWriteMode.Patch);

    public static void ValidateReplace(JsonObject body) => Validate(body, TwinWriteMode.Replace);

    private static void Validate(JsonObject body, TwinWriteMode mode)
    {
        TwinValidator.ValidatePatch(body["tags"], TwinSectionKind.Tags, mode);
        if (body["properties"] is JsonObject properties)
        {
            TwinValidator.ValidatePatch(properties["desired"], TwinSectionKind.Desired, mode);
        }
    }
}
