using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Limits;
using TwinPS.Emulator.Rest;
using TwinPS.Emulator.Security;
using TwinPS.Emulator.Storage;

namespace TwinPS.Emulator.Hosting;

/// <summary>Builds and runs the emulator process: certificates, store, registry, HTTPS host, extra endpoints, ready line.</summary>
internal static class EmulatorHost
{
    /// <summary>Runs until SIGINT/SIGTERM; returns the process exit code.</summary>
    public static async Task<int> RunAsync(EmulatorOptions options)
    {
        string? tempFolder = null;
        string? dataPath = null;
        string certificateFolder;
        if (options.InMemory)
        {
            tempFolder = Path.Combine(Path.GetTempPath(), "twinps-emulator-" + Guid.NewGuid().ToString("N"));
            certificateFolder = tempFolder;
        }
        else
        {
            dataPath = Path.GetFullPath(options.DataPath ?? EmulatorOptions.DefaultDataPath);
            certificateFolder = dataPath;
        }

        try
        {
            // Owner-only when created here; an existing folder is checked, never changed (it may be shared on purpose).
            OwnerOnlyFiles.PrepareFolder(certificateFolder);
            using EmulatorCertificates certificates = EmulatorCertificates.LoadOrCreate(certificateFolder, options.BindAddress);
            await using HubStore store = HubStore.Open(dataPath);
            SharedAccessPolicies policies = await SharedAccessPolicies.LoadOrCreateAsync(store, options.CustomPolicies).ConfigureAwait(false);
            using EntraTokenIssuer tokenIssuer = EntraTokenIssuer.LoadOrCreate(certificateFolder, options.HubName, options.EntraClockSkew);
            var context = new EmulatorContext(options, HostNameFor(options.BindAddress), certificates, policies, tokenIssuer);
            DeviceTable devices = DeviceTable.Load(store);
            return await ServeAsync(context, devices, store, dataPath).ConfigureAwait(false);
        }
        catch (DataFolderException ex)
        {
            await Console.Error.WriteLineAsync("TwinPS.Emulator: could not start: " + ex.Message).ConfigureAwait(false);
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SocketException
            or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or System.Security.Cryptography.CryptographicException)
        {
            await Console.Error.WriteLineAsync("TwinPS.Emulator: could not start: " + DescribeStartFailure(ex)).ConfigureAwait(false);
            return 1;
        }
        finally
        {
            if (tempFolder is not null)
            {
                try
                {
                    Directory.Delete(tempFolder, recursive: true);
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
    }

    private static async Task<int> ServeAsync(EmulatorContext context, DeviceTable devices, HubStore store, string? dataPath)
    {
        EmulatorOptions options = context.Options;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("TwinPS", options.Verbose ? LogLevel.Debug : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", options.Verbose ? LogLevel.Information : LogLevel.Error);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        // Listen on exactly the address given: Kestrel's default makes an IPv6 "any" socket dual-mode (IPv4 too).
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = CreateListenSocket);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RestLimits.MaxRequestBodyBytes;
            kestrel.Listen(options.BindAddress, options.HttpsPort, listen =>
            {
                listen.UseHttps(https =>
                {
                    https.HandshakeTimeout = options.HandshakeTimeout;
                    https.ServerCertificate = context.ServerCertificate;
                    https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
                });
            });
        });

        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton(devices);
        builder.Services.AddSingleton<HubEvents>();
        builder.Services.AddSingleton<WriteCounts>();
        builder.Services.AddSingleton<HubRegistry>();
        builder.Services.AddSingleton<HubTwins>();
        builder.Services.AddSingleton<DeviceConnections>();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(context.Policies);
        builder.Services.AddSingleton(context.TokenIssuer);
        builder.Services.AddSingleton<RequestStatistics>();
        builder.Services.AddSingleton(_ => new HubThrottle(options.Throttle));
        builder.Services.AddSingleton(_ => new FaultInjector(options.Faults));
        builder.Services.AddSingleton<RequestAuthenticator>();
        builder.Services.AddSingleton<QueryContinuation>();
        builder.Services.AddSingleton<Methods.DeviceMethodBroker>();
        builder.Services.AddSingleton(new Jobs.JobSlots(options.Throttle.Tier?.MaxActiveJobs));
        builder.Services.AddSingleton<Jobs.IJobThrottle, HubJobThrottle>();
        builder.Services.AddSingleton<Jobs.JobService>();
        builder.Services.AddHostedService<Jobs.JobRunner>();
        builder.Services.AddSingleton<RestDispatcher>();

        await using WebApplication app = builder.Build();
        RestDispatcher dispatcher = app.Services.GetRequiredService<RestDispatcher>();
        app.Run(dispatcher.HandleAsync);

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TwinPS.Emulator");
        await app.StartAsync().ConfigureAwait(false);
        context.HttpsPort = ResolvePort(app);

        var endpoints = new List<IEmulatorEndpoint>();
        int? mqttPort = null;
        foreach (Type type in typeof(EmulatorHost).Assembly.GetTypes()
                     .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IEmulatorEndpoint).IsAssignableFrom(t)))
        {
            var endpoint = (IEmulatorEndpoint)ActivatorUtilities.CreateInstance(app.Services, type);
            int port = await endpoint.StartAsync(app.Lifetime.ApplicationStopping).ConfigureAwait(false);
            endpoints.Add(endpoint);
            if (string.Equals(endpoint.Name, "mqtt", StringComparison.OrdinalIgnoreCase))
            {
                mqttPort = port;
                context.MqttPort = port;
            }

            logger.LogInformation("Endpoint {Name} listening on port {Port}", endpoint.Name, port);
        }

        await Console.Out.WriteLineAsync(ReadyLine.Build(context, mqttPort, dataPath)).ConfigureAwait(false);
        await Console.Out.FlushAsync().ConfigureAwait(false);
        logger.LogInformation("TwinPS emulator ready on https://{Host}:{Port} (hub {Hub}, {Devices} devices loaded)",
            context.HostName, context.HttpsPort, options.HubName, devices.DeviceCount);

        await app.WaitForShutdownAsync().ConfigureAwait(false);

        foreach (IEmulatorEndpoint endpoint in endpoints)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await endpoint.StopAsync(timeout.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // one endpoint failing to stop must not prevent the store from flushing
            catch (Exception ex)
#pragma warning restore CA1031
            {
                logger.LogWarning("Endpoint {Name} did not stop cleanly: {Error}", endpoint.Name, ex.GetType().Name);
            }

            if (endpoint is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            else if (endpoint is IDisposable disposable) disposable.Dispose();
        }

        logger.LogInformation("TwinPS emulator stopped");
        return 0;
    }

    private static Socket CreateListenSocket(EndPoint endpoint)
    {
        if (endpoint is not IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip)
            return Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { DualMode = false };
        try
        {
            socket.Bind(ip);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    }

    private static int ResolvePort(WebApplication app)
    {
        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        string first = addresses.Addresses.First();
        return new Uri(first.Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)).Port;
    }

    /// <summary><c>localhost</c> for loopback or any-address binds, otherwise the bound address itself.</summary>
    private static string HostNameFor(IPAddress bind)
    {
        if (IPAddress.IsLoopback(bind) || bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any)) return "localhost";
        return bind.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + bind + "]" : bind.ToString();
    }

    private static string DescribeStartFailure(Exception ex) => ex switch
    {
        IOException io when io.InnerException is SocketException or AddressInUseException => "the port is already in use (" + io.Message + ")",
        _ => ex.GetType().Name + ": " + ex.Message,
    };
}
