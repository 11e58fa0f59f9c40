using System.Runtime.InteropServices;

namespace Splade.Cuda;

/// <summary>
/// What <c>cuda:N</c> needs before ILGPU touches it, checked in order so that a missing piece is named: the CUDA driver
/// library, a device with that number, the cuBLAS library. The loaders are replaceable for tests.
/// </summary>
internal sealed class CudaProbe
{
    /// <summary>Driver library names tried in order.</summary>
    public static readonly string[] DriverLibraries = OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"];

    /// <summary>cuBLAS library names tried in order (the versions ILGPU.Algorithms binds to).</summary>
    public static readonly string[] CuBlasLibraries = OperatingSystem.IsWindows()
        ? ["cublas64_12.dll", "cublas64_11.dll"]
        : ["libcublas.so.12", "libcublas.so.11", "libcublas.so"];

    /// <summary>Whether a native library of this name can be loaded.</summary>
    public Func<string, bool> CanLoad { get; init; } = name =>
    {
        if (!NativeLibrary.TryLoad(name, out nint handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    };

    /// <summary>Number of CUDA devices the driver reports.</summary>
    public Func<int> DeviceCount { get; init; } = () => 0;

    /// <summary>Checks that <paramref name="ordinal"/> can be used; throws <see cref="Splade.Devices.DeviceUnavailableException"/> naming what is missing.</summary>
    public void Check(string device, int ordinal)
    {
        if (!DriverLibraries.Any(CanLoad))
            throw new Splade.Devices.DeviceUnavailableException(device,
                $"device {device}: no CUDA driver found ({string.Join(" / ", DriverLibraries)} could not be loaded). Install the NVIDIA driver, or use device cpu.");
        int count = DeviceCount();
        if (count == 0)
            throw new Splade.Devices.DeviceUnavailableException(device, $"device {device}: the CUDA driver reports no CUDA device. Use device cpu.");
        if (ordinal >= count)
            throw new Splade.Devices.DeviceUnavailableException(device, $"device {device}: no CUDA device {ordinal}; this machine has {count} (cuda:0 .. cuda:{count - 1}).");
        if (!CuBlasLibraries.Any(CanLoad))
            throw new Splade.Devices.DeviceUnavailableException(device,
                $"device {device}: the cuBLAS library was not found ({string.Join(" / ", CuBlasLibraries)}). Install cuBLAS of CUDA 11 or 12 (e.g. the nvidia-cublas-cu12 wheel or the CUDA toolkit) and put its folder on LD_LIBRARY_PATH.");
    }
}
