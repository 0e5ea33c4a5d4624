using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Security;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>
/// One REST route: the HTTP method, the path pattern (<c>devices/{id}/modules/{moduleId}</c>: literal segments, and
/// <c>{name}</c> segments that take any value), the <see cref="HubOperation"/> whose rights the caller needs, the
/// throttle class the request is charged one unit of (null when charged elsewhere or not at all) and the handler,
/// which gets the values of the <c>{…}</c> segments in order. A <see cref="Guard"/> runs before the rights check and
/// throws to refuse the request (the token endpoint answers loopback callers only).
/// </summary>
internal sealed class RestRoute(
    string method,
    string pattern,
    HubOperation operation,
    ThrottleClass? throttle,
    Func<RestDispatcher, HttpContext, string[], Task> handler,
    Action<HttpContext>? guard = null)
{
    private readonly string[] _segments = pattern.Split('/');

    public string Method { get; } = method;

    public string Pattern { get; } = pattern;

    public HubOperation Operation { get; } = operation;

    public ThrottleClass? Throttle { get; } = throttle;

    public Func<RestDispatcher, HttpContext, string[], Task> Handler { get; } = handler;

    public Action<HttpContext>? Guard { get; } = guard;

    /// <summary>Whether <paramref name="path"/> (decoded segments) has this route's shape; the <c>{…}</c> values when it has.</summary>
    public bool Matches(string[] path, out string[] values)
    {
        values = [];
        if (path.Length != _segments.Length)
        {
            return false;
        }

        List<string>? captured = null;
        for (int i = 0; i < path.Length; i++)
        {
            string segment = _segments[i];
            if (segment.StartsWith('{'))
            {
                (captured ??= []).Add(path[i]);
            }
            else if (!string.Equals(segment, path[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        values = captured?.ToArray() ?? [];
        return true;
    }
}
