using System.Text.Json.Nodes;
using Azure.Core;
using TwinPS.Protocol;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>
    /// Creates a module identity with hub-generated SAS keys (PUT without If-Match: 409 <c>ModuleAlreadyExistsOnDevice</c>
    /// if it exists). Module ids starting with <c>$</c> are reserved for system modules and refused.
    /// </summary>
    public async Task<ModuleIdentity> CreateModuleAsync(string deviceId, string moduleId, CancellationToken cancellationToken = default)
    {
        var path = ModulePath(deviceId, moduleId, allowSystemModules: false);
        var body = new JsonObject
        {
            ["deviceId"] = deviceId,
            ["moduleId"] = moduleId,
            ["authentication"] = new JsonObject
            {
                ["type"] = "sas",
                ["symmetricKey"] = new JsonObject { ["primaryKey"] = string.Empty, ["secondaryKey"] = string.Empty },
            },
        };
        try
        {
            using var message = await SendAsync(RequestMethod.Put, path, body, null, null, cancellationToken).ConfigureAwait(false);
            return ReadModule(message.Response);
        }
        catch (IoTHubServiceException ex) when (ex.Status == 409 && ex.FollowsLostAttempt)
        {
            // The first create's answer was lost and the retry found the module: a SAS module with hub-made keys is
            // all that was sent, so the module that exists now is ours.
            return await GetModuleAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }

    /// <summary>Gets a module identity (its keys are held privately in the result).</summary>
    public async Task<ModuleIdentity> GetModuleAsync(string deviceId, string moduleId, CancellationToken cancellationToken = default)
    {
        var path = ModulePath(deviceId, moduleId, allowSystemModules: true);
        try
        {
            using var message = await SendAsync(RequestMethod.Get, path, null, null, null, cancellationToken).ConfigureAwait(false);
            return ReadModule(message.Response);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }

    /// <summary>Lists the module identities of a device.</summary>
    public async Task<IReadOnlyList<ModuleIdentity>> GetModulesAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        var path = DevicePath(deviceId) + "/modules";
        try
        {
            using var message = await SendAsync(RequestMethod.Get, path, null, null, null, cancellationToken).ConfigureAwait(false);
            if (ReadJson(message.Response) is not JsonArray array)
            {
                throw InvalidResponse(message.Response, "a module list that is not a JSON array");
            }

            return array.OfType<JsonObject>().Select(ModuleIdentity.FromJson).ToList();
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, null);
        }
    }

    /// <summary>Deletes a module identity and its twin. <paramref name="ifMatch"/>: the module etag or <c>*</c>.</summary>
    public async Task DeleteModuleAsync(string deviceId, string moduleId, string ifMatch, CancellationToken cancellationToken = default)
    {
        var path = ModulePath(deviceId, moduleId, allowSystemModules: false);
        await DeleteIdentityAsync(path, ifMatch, deviceId, moduleId, cancellationToken).ConfigureAwait(false);
    }

    private static string ModulePath(string deviceId, string moduleId, bool allowSystemModules)
    {
        ArgumentNullException.ThrowIfNull(moduleId);
        var devicePath = DevicePath(deviceId);
        IdentityRules.ValidateModuleId(moduleId, allowSystemModules);
        return devicePath + "/modules/" + Escape(moduleId);
    }

    private static ModuleIdentity ReadModule(Azure.Response response)
    {
        var json = ReadJsonObject(response, "module");
        return JsonFields.GetString(json, "deviceId") is null || JsonFields.GetString(json, "moduleId") is null
            ? throw InvalidResponse(response, "a module without 'deviceId' or 'moduleId'")
            : ModuleIdentity.FromJson(json);
    }
}
