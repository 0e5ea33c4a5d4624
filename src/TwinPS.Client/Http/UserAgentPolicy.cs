using System.Reflection;
using System.Runtime.InteropServices;
using Azure.Core;
using Azure.Core.Pipeline;

namespace TwinPS.Client.Http;

/// <summary>Sets <c>User-Agent: TwinPS/&lt;informational version&gt; (.NET …; OS …)</c>.</summary>
internal sealed class UserAgentPolicy : HttpPipelineSynchronousPolicy
{
    public static readonly string Version =
        typeof(UserAgentPolicy).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(UserAgentPolicy).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    public static readonly string Value = $"TwinPS/{Version} ({RuntimeInformation.FrameworkDescription}; {Sanitize(RuntimeInformation.OSDescription)})";

    public override void OnSendingRequest(HttpMessage message)
    {
        message.Request.Headers.SetValue(HttpHeader.Names.UserAgent, Value);
    }

    private static string Sanitize(string text) =>
        new(text.Where(c => c is >= ' ' and <= '~' and not '(' and not ')').ToArray());
}
