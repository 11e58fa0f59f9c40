using System.Reflection;
using Splade.Models;

namespace Splade.Devices;

/// <summary>
/// The registry of forward backends behind <see cref="SparseEncoderOptions.Device"/>. <c>cpu</c> is the managed
/// encoder and needs none. For <c>cuda</c>, <c>cuda:N</c> and <c>ilgpu-cpu</c> the <c>Splade.Cuda</c> assembly is
/// loaded by name on first use (its provider registers itself), so the core library carries no GPU dependency.
/// </summary>
public static class ForwardBackends
{
    /// <summary>Name of the assembly that provides the CUDA devices.</summary>
    public const string CudaAssemblyName = "Splade.Cuda";
    private const string CudaProviderType = "Splade.Cuda.CudaBackendProvider";
    private static readonly List<IForwardBackendProvider> Providers = new();
    private static readonly Lock Gate = new();

    /// <summary>Adds a provider (later registrations win for the same device name).</summary>
    public static void Register(IForwardBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate) Providers.Insert(0, provider);
    }

    /// <summary>
    /// Normalises a device name: <c>cpu</c>, <c>cuda</c> (= <c>cuda:0</c>), <c>cuda:N</c>, <c>ilgpu-cpu</c>, or a name a
    /// registered provider handles; lower-cased, surrounding spaces removed.
    /// </summary>
    /// <exception cref="ArgumentException">The name is none of those.</exception>
    public static string Normalize(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        string d = device.Trim().ToLowerInvariant();
        if (d is "cpu" or "ilgpu-cpu") return d;
        if (d == "cuda") return "cuda:0";
        if (d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            string n = d[5..];
            if (n.Length > 0 && n.Length <= 3 && n.All(char.IsAsciiDigit)) return "cuda:" + int.Parse(n, System.Globalization.CultureInfo.InvariantCulture);
            throw new ArgumentException($"Device '{device}': expected cuda:N with N a device number (0, 1, ...).", nameof(device));
        }
        lock (Gate)
            if (Providers.Any(p => p.Handles(d))) return d;
        throw new ArgumentException($"Unknown device '{device}': expected cpu, cuda, cuda:N or ilgpu-cpu.", nameof(device));
    }

    /// <summary>Whether <paramref name="device"/> is the managed CPU encoder.</summary>
    public static bool IsCpu(string device) => Normalize(device) == "cpu";

    /// <summary>Creates the backend of <paramref name="device"/> (not <c>cpu</c>) for <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">Unknown device name, or <c>cpu</c>.</exception>
    /// <exception cref="DeviceUnavailableException">No provider (the Splade.Cuda package is missing), or the device cannot be used.</exception>
    /// <exception cref="NotSupportedException">The device does not offer <paramref name="precision"/>.</exception>
    public static IForwardBackend Create(string device, SpladeModel model, EncodePrecision precision = EncodePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(model);
        string d = Normalize(device);
        if (d == "cpu") throw new ArgumentException("The cpu device runs the managed encoder and has no backend.", nameof(device));
        return Find(d).Create(model, d, precision);
    }

    private static IForwardBackendProvider Find(string device)
    {
        lock (Gate)
        {
            if (Providers.FirstOrDefault(p => p.Handles(device)) is { } found) return found;
            if (TryLoadProvider(CudaAssemblyName) is { } cuda && cuda.Handles(device)) { Providers.Add(cuda); return cuda; }
        }
        throw MissingPackage(device);
    }

    /// <summary>The error for a device whose provider assembly is absent.</summary>
    internal static DeviceUnavailableException MissingPackage(string device) => new(device,
        $"device {device} needs the {CudaAssemblyName} package: add a reference to it (the splade command includes it), or use device cpu.");

    /// <summary>The provider of assembly <paramref name="assemblyName"/>, null when the assembly is not found.</summary>
    internal static IForwardBackendProvider? TryLoadProvider(string assemblyName)
    {
        Assembly assembly;
        try { assembly = Assembly.Load(new AssemblyName(assemblyName)); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { return null; }
        Type? type = assembly.GetType(CudaProviderType, throwOnError: false);
        return type is null ? null : Activator.CreateInstance(type) as IForwardBackendProvider;
    }
}
