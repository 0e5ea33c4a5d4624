using System.Reflection;
using Azure.Core;

namespace TwinPS.Internal;

/// <summary>
/// A TokenCredential from another copy of Azure.Core (the user's session: Az.Accounts, an Add-Type of Azure.Identity,
/// any version) used through TwinPS's own copy. TwinPS loads Azure.Core in its own AssemblyLoadContext, so the
/// user's <c>Azure.Core.TokenCredential</c> is a different type from TwinPS's even at the same version; this adapter
/// calls the object's <c>GetTokenAsync(TokenRequestContext, CancellationToken)</c> by reflection, building the
/// request context of the object's own Azure.Core, and copies the token and its expiry back. The token is never
/// kept here beyond the call and never logged.
/// </summary>
internal sealed class ForeignTokenCredential : TokenCredential
{
    private const string TokenRequestContextTypeName = "Azure.Core.TokenRequestContext";
    private readonly object _credential;
    private readonly MethodInfo _getTokenAsync;
    private readonly MethodInfo _getToken;
    private readonly ConstructorInfo _contextConstructor;

    private ForeignTokenCredential(object credential, MethodInfo getTokenAsync, MethodInfo getToken, ConstructorInfo contextConstructor)
    {
        _credential = credential;
        _getTokenAsync = getTokenAsync;
        _getToken = getToken;
        _contextConstructor = contextConstructor;
    }

    /// <summary>
    /// Wraps <paramref name="credential"/> when it is a TokenCredential of another Azure.Core copy (it derives from a
    /// type named <c>Azure.Core.TokenCredential</c> and has the two GetToken methods); null for anything else.
    /// </summary>
    public static TokenCredential? TryCreate(object credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (credential is TokenCredential own)
        {
            return own;
        }

        Type type = credential.GetType();
        if (!DerivesFrom(type, typeof(TokenCredential).FullName!))
        {
            return null;
        }

        MethodInfo? getTokenAsync = FindGetToken(type, "GetTokenAsync");
        MethodInfo? getToken = FindGetToken(type, "GetToken");
        if (getTokenAsync is null || getToken is null)
        {
            return null;
        }

        ConstructorInfo? constructor = getToken.GetParameters()[0].ParameterType.GetConstructors()
            .Where(c =>
            {
                ParameterInfo[] parameters = c.GetParameters();
                return parameters.Length >= 1 && parameters[0].ParameterType == typeof(string[]) &&
                    parameters.Skip(1).All(p => p.HasDefaultValue);
            })
            .OrderBy(c => c.GetParameters().Length)
            .FirstOrDefault();
        return constructor is null ? null : new ForeignTokenCredential(credential, getTokenAsync, getToken, constructor);
    }

    /// <inheritdoc />
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ToAccessToken(Invoke(_getToken, requestContext, cancellationToken));

    /// <inheritdoc />
    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        object valueTask = Invoke(_getTokenAsync, requestContext, cancellationToken);
        // ValueTask<their AccessToken>: AsTask() gives a Task<their AccessToken>, whose Result is read once it is done.
        var task = (Task)valueTask.GetType().GetMethod("AsTask", Type.EmptyTypes)!.Invoke(valueTask, null)!;
        await task.ConfigureAwait(false);
        return ToAccessToken(task.GetType().GetProperty("Result")!.GetValue(task)!);
    }

    private object Invoke(MethodInfo method, TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        ParameterInfo[] extra = _contextConstructor.GetParameters();
        object?[] arguments = new object?[extra.Length];
        arguments[0] = requestContext.Scopes;
        for (int i = 1; i < extra.Length; i++)
        {
            arguments[i] = extra[i].Name switch
            {
                "parentRequestId" => requestContext.ParentRequestId,
                "claims" => requestContext.Claims,
                "tenantId" => requestContext.TenantId,
                _ => extra[i].DefaultValue,
            };
        }

        object context = _contextConstructor.Invoke(arguments);
        try
        {
            return method.Invoke(_credential, [context, cancellationToken])
                ?? throw new InvalidOperationException("The credential returned no token.");
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private static AccessToken ToAccessToken(object foreign)
    {
        Type type = foreign.GetType();
        string token = type.GetProperty("Token")?.GetValue(foreign) as string
            ?? throw new InvalidOperationException("The credential returned an access token without a token value.");
        var expiresOn = (DateTimeOffset)(type.GetProperty("ExpiresOn")?.GetValue(foreign)
            ?? throw new InvalidOperationException("The credential returned an access token without an expiry."));
        DateTimeOffset? refreshOn = type.GetProperty("RefreshOn")?.GetValue(foreign) as DateTimeOffset?;
        string tokenType = type.GetProperty("TokenType")?.GetValue(foreign) as string ?? "Bearer";
        return new AccessToken(token, expiresOn, refreshOn, tokenType);
    }

    private static MethodInfo? FindGetToken(Type type, string name) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(m =>
        {
            if (m.Name != name)
            {
                return false;
            }

            ParameterInfo[] parameters = m.GetParameters();
            return parameters.Length == 2 &&
                parameters[0].ParameterType.FullName == TokenRequestContextTypeName &&
                parameters[1].ParameterType == typeof(CancellationToken);
        });

    private static bool DerivesFrom(Type type, string baseTypeFullName)
    {
        for (Type? current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (current.FullName == baseTypeFullName)
            {
                return true;
            }
        }

        return false;
    }
}
