using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Tests;

/// <summary>
/// Bounds before authentication and exact binding (issue 8, findings 1, 2 and 6), each against its own emulator
/// process so that memory and sockets are those of this test alone.
/// </summary>
public sealed class HardeningTests
{
    private static readonly TimeSpan Generous = TwinPS.Testing.TimeBounds.Eventually;

    [Fact]
    public async Task An_oversized_CONNECT_without_credentials_is_refused_on_its_header_and_memory_stays_flat()
    {
        if (!OperatingSystem.IsLinux()) return; // measures VmRSS in /proc; the project's CI runs on Linux
        using EmulatorProcess emulator = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory");
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(emulator.CaCertificatePath));

        // Warm up TLS and the MQTT path once, then take the baseline.
        await SendOversizedConnectAsync(emulator.MqttPort, ca, announced: 1024, send: 0);
        long before = ResidentBytes(emulator.ProcessId);

        const int announced = 200 * 1024 * 1024;
        const int perConnection = 32 * 1024 * 1024;
        long accepted = 0;
        for (int i = 0; i < 4; i++)
        {
            (long written, bool closed) = await SendOversizedConnectAsync(emulator.MqttPort, ca, announced, perConnection);
            Assert.True(closed, $"connection {i}: the emulator kept reading a CONNECT that announced {announced} bytes ({written} bytes sent)");
            accepted += written;
        }

        long after = ResidentBytes(emulator.ProcessId);
        Assert.True(after - before < 48L * 1024 * 1024,
            $"emulator RSS grew from {before / 1048576} MB to {after / 1048576} MB while refusing 4 oversized CONNECTs ({accepted / 1048576} MB were written before each was refused)");
        Assert.Contains("the limit is 262144", emulator.StandardError, StringComparison.Ordinal);
        Assert.False(emulator.HasExited);
    }

    [Fact]
    public async Task Both_endpoints_listen_on_exactly_the_bound_address_in_both_families()
    {
        if (!OperatingSystem.IsLinux()) return; // reads /proc/net/tcp{,6}; the project's CI runs on Linux
        using (EmulatorProcess v4 = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory"))
        {
            foreach (int port in new[] { v4.HttpsPort, v4.MqttPort })
            {
                Assert.Equal(["127.0.0.1"], Listeners(port, v6: false));
                Assert.Empty(Listeners(port, v6: true));
            }

            await AssertRefusedAsync(IPAddress.IPv6Loopback, v4.MqttPort);
        }

        using EmulatorProcess v6 = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory", "--bind", "::1");
        foreach (int port in new[] { v6.HttpsPort, v6.MqttPort })
        {
            Assert.Equal(["::1"], Listeners(port, v6: true));
            Assert.Empty(Listeners(port, v6: false));
        }

        await AssertRefusedAsync(IPAddress.Loopback, v6.MqttPort);
        await AssertRefusedAsync(IPAddress.Loopback, v6.HttpsPort);
    }

    [Fact]
    public async Task A_client_that_never_starts_TLS_is_disconnected_after_the_handshake_timeout_on_both_endpoints()
    {
        using EmulatorProcess emulator = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory", "--handshake-timeout", "2");
        var sockets = new List<Socket>();
        try
        {
            foreach (int port in new[] { emulator.MqttPort, emulator.HttpsPort })
            {
                for (int i = 0; i < 5; i++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(IPAddress.Loopback, port);
                    sockets.Add(socket);
                }
            }

            // Every socket must be closed by the emulator: wait for it (generously), never for a fixed time.
            using var overall = new CancellationTokenSource(Generous);
            foreach (Socket socket in sockets)
            {
                Assert.True(await ClosedByPeerAsync(socket, overall.Token), $"{socket.RemoteEndPoint} was still open after {Generous.TotalSeconds} s");
            }
        }
        finally
        {
            foreach (Socket socket in sockets) socket.Dispose();
        }
    }

    [Fact]
    public async Task A_client_that_completes_TLS_but_never_sends_CONNECT_is_disconnected_after_the_timeout()
    {
        using EmulatorProcess emulator = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--in-memory", "--handshake-timeout", "2");
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(emulator.CaCertificatePath));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, emulator.MqttPort);
        using var tls = new SslStream(tcp.GetStream(), false, (_, c, _, _) => Trusted(c, ca));
        await tls.AuthenticateAsClientAsync("localhost");
        using var overall = new CancellationTokenSource(Generous);
        var buffer = new byte[16];
        int n;
        try
        {
            n = await tls.ReadAsync(buffer, overall.Token);
        }
        catch (IOException)
        {
            n = 0;
        }

        Assert.Equal(0, n);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Connects with TLS, sends a CONNECT fixed header announcing <paramref name="announced"/> bytes and then up to <paramref name="send"/> bytes; returns what was written and whether the emulator closed the connection.</summary>
    private static async Task<(long Written, bool Closed)> SendOversizedConnectAsync(int port, X509Certificate2 ca, int announced, int send)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        using var tls = new SslStream(tcp.GetStream(), false, (_, c, _, _) => Trusted(c, ca));
        await tls.AuthenticateAsClientAsync("localhost");
        var header = new List<byte> { 0x10 };
        int length = announced;
        do
        {
            byte b = (byte)(length % 128);
            length /= 128;
            if (length > 0) b |= 0x80;
            header.Add(b);
        }
        while (length > 0);

        long written = 0;
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'A');
        try
        {
            await tls.WriteAsync(header.ToArray());
            await tls.FlushAsync();
            while (written < send)
            {
                await tls.WriteAsync(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            return (written, true);
        }

        using var overall = new CancellationTokenSource(Generous);
        try
        {
            var buffer = new byte[16];
            return (written, await tls.ReadAsync(buffer, overall.Token) == 0);
        }
        catch (IOException)
        {
            return (written, true);
        }
        catch (OperationCanceledException)
        {
            return (written, false);
        }
    }

    private static bool Trusted(X509Certificate? certificate, X509Certificate2 ca)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static async Task<bool> ClosedByPeerAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1];
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task AssertRefusedAsync(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var error = await Assert.ThrowsAsync<SocketException>(async () => await socket.ConnectAsync(address, port));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    private static long ResidentBytes(int processId)
    {
        foreach (string line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }

        throw new InvalidOperationException("no VmRSS");
    }

    /// <summary>The local addresses in LISTEN state on <paramref name="port"/> (from /proc/net/tcp or tcp6).</summary>
    internal static List<string> Listeners(int port, bool v6)
    {
        var result = new List<string>();
        foreach (string line in File.ReadLines(v6 ? "/proc/net/tcp6" : "/proc/net/tcp").Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || f[3] != "0A") continue;
            string[] local = f[1].Split(':');
            if (int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != port) continue;
            byte[] raw = Convert.FromHexString(local[0]);
            // /proc prints each 32-bit word in host (little-endian) order.
            for (int i = 0; i < raw.Length; i += 4) Array.Reverse(raw, i, 4);
            result.Add(new IPAddress(raw).ToString());
        }

        return result;
    }
}
