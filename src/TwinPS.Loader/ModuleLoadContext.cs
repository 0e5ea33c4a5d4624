using System.Reflection;
using System.Runtime.Loader;

namespace TwinPS.Loader;

/// <summary>
/// TwinPS's own <see cref="AssemblyLoadContext"/>: TwinPS.dll and everything it ships in the module's
/// <c>dependencies</c> folder (Azure.Core, Azure.Identity, MSAL, System.ClientModel, MQTTnet, ...) load here, so that
/// other modules' copies of the same assemblies, in the default context or in their own, never meet TwinPS's copies.
/// Anything not shipped in that folder (the framework, System.Management.Automation) resolves from the default
/// context, so the cmdlets derive from PowerShell's own PSCmdlet. One instance per process, created on first import.
/// </summary>
public sealed class ModuleLoadContext : AssemblyLoadContext
{
    /// <summary>The folder beside this assembly that holds the module assembly and its dependencies.</summary>
    public const string DependencyFolderName = "dependencies";

    private const string ModuleAssemblyFileName = "TwinPS.dll";
    private static readonly object Gate = new();
    private static ModuleLoadContext? _instance;

    private readonly string _dependencyDirectory;
    private readonly string? _windowsRuntimeDirectory;

    private ModuleLoadContext(string dependencyDirectory)
        : base("TwinPS", isCollectible: false)
    {
        _dependencyDirectory = dependencyDirectory;
        _windowsRuntimeDirectory = OperatingSystem.IsWindows()
            ? Path.Combine(dependencyDirectory, "runtimes", "win", "lib")
            : null;
        ModuleAssembly = LoadFromAssemblyPath(Path.Combine(dependencyDirectory, ModuleAssemblyFileName));
    }

    /// <summary>TwinPS.dll, loaded in this context (the assembly that PowerShell imports the cmdlets from).</summary>
    public Assembly ModuleAssembly { get; }

    /// <summary>The folder that this context loads from.</summary>
    public string DependencyDirectory => _dependencyDirectory;

    /// <summary>The process's one TwinPS load context, or null before the module was first imported.</summary>
    public static ModuleLoadContext? Instance => Volatile.Read(ref _instance);

    /// <summary>
    /// Creates the context on first call (later calls return the same one) and returns TwinPS.dll loaded in it.
    /// </summary>
    public static Assembly Initialize()
    {
        ModuleLoadContext? existing = Volatile.Read(ref _instance);
        if (existing is not null)
        {
            return existing.ModuleAssembly;
        }

        lock (Gate)
        {
            if (_instance is null)
            {
                string loaderDirectory = Path.GetDirectoryName(typeof(ModuleLoadContext).Assembly.Location)
                    ?? throw new InvalidOperationException("The TwinPS loader assembly has no location on disk.");
                Volatile.Write(ref _instance, new ModuleLoadContext(Path.Combine(loaderDirectory, DependencyFolderName)));
            }

            return _instance!.ModuleAssembly;
        }
    }

    /// <summary>
    /// Serves an assembly from the dependencies folder when TwinPS ships it; otherwise returns null, so that the
    /// default context supplies it (framework assemblies and PowerShell's own).
    /// </summary>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        string? path = Find(assemblyName.Name);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    private string? Find(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.IndexOfAny(['/', '\\', ':']) >= 0 || name.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        string fileName = name + ".dll";
        if (_windowsRuntimeDirectory is not null && Directory.Exists(_windowsRuntimeDirectory))
        {
            // A package's Windows-specific build (runtimes/win/lib/<tfm>/) wins over its portable one on Windows,
            // as the deps.json that a published application would have had says.
            foreach (string tfmDirectory in Directory.EnumerateDirectories(_windowsRuntimeDirectory))
            {
                string candidate = Path.Combine(tfmDirectory, fileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        string path = Path.Combine(_dependencyDirectory, fileName);
        return File.Exists(path) ? path : null;
    }
}
