// Every time bound of the xunit suites, in one place (linked into each test project; see tests/README.md).
// Tests wait on events and conditions; a bound here is only ever the generous outer limit of such a wait, or,
// where a bound is the behaviour itself (a cancellation or a drop is noticed "at once"), a limit measured from
// the event that is far from what the broken behaviour would take. Do not write a literal bound in a test.
namespace TwinPS.Testing;

internal static class TimeBounds
{
    /// <summary>
    /// The outer limit for anything that happens eventually (an arrival, a disconnect, a status change, an exit,
    /// a reply). Reaching it means the behaviour is broken, not that the machine is slow: on a quiet machine
    /// these things take milliseconds, and they passed at load average 40 on 2 cores.
    /// </summary>
    public static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What a test uses for "never" (a server that does not answer, a retry delay or operation timeout that must
    /// not be what ends a call). Much longer than <see cref="Eventually"/>, so that a call that ends within
    /// <see cref="Eventually"/> provably did not wait for it.
    /// </summary>
    public static readonly TimeSpan Never = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A head start given to a request before the event it must wait for is caused (a method call that must wait for
    /// its device to connect). A slow machine can only make the request arrive later, which turns the test into the
    /// weaker "device already there" case; it can never make a correct emulator fail.
    /// </summary>
    public static readonly TimeSpan HeadStart = TimeSpan.FromMilliseconds(500);

    /// <summary>Starting an emulator process until its ready line.</summary>
    public static readonly TimeSpan ProcessStart = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a test watches for something that must NOT happen (no patch routed to another device, no
    /// reply). A slow machine can only make such a check pass wrongly, never fail it.
    /// </summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A per-try network timeout that a test lets expire on purpose: short enough to keep the test short, long
    /// enough that a request on a warm loopback connection always reaches the server first.
    /// </summary>
    public static readonly TimeSpan PerTryTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A server-requested back-off delay that a test checks is honoured: the call must take at least
    /// <see cref="ThrottleDelayLowerBound"/> (Azure.Core jitters the delay by ±20 %). A lower bound cannot
    /// flake on a slow machine.
    /// </summary>
    public static readonly TimeSpan ThrottleDelay = TimeSpan.FromMilliseconds(600);

    /// <summary>See <see cref="ThrottleDelay"/>.</summary>
    public static readonly TimeSpan ThrottleDelayLowerBound = TimeSpan.FromMilliseconds(450);
}
