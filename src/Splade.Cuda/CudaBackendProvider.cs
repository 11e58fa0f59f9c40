using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Splade.Devices;
using Splade.Models;

namespace Splade.Cuda;

/// <summary>
/// Provides the devices <c>cuda</c> / <c>cuda:N</c> (an NVIDIA GPU: ILGPU kernels, cuBLAS sgemm) and <c>ilgpu-cpu</c>
/// (the same kernels on ILGPU's CPU accelerator with a plain GEMM kernel: slow, for tests and for checking the kernels
/// without a GPU). <see cref="ForwardBackends"/> finds it by assembly name; <see cref="Register"/> registers it explicitly.
/// </summary>
public sealed class CudaBackendProvider : IForwardBackendProvider
{
    /// <summary>Registers a provider with <see cref="ForwardBackends"/>.</summary>
    public static void Register() => ForwardBackends.Register(new CudaBackendProvider());

    /// <inheritdoc/>
    public IReadOnlyList<string> DeviceNames { get; } = ["cuda", "cuda:N", "ilgpu-cpu"];

    internal CudaProbe Probe { get; init; } = new() { DeviceCount = CudaDeviceCount };

    /// <inheritdoc/>
    public bool Handles(string device) => device == "ilgpu-cpu" || device.StartsWith("cuda:", StringComparison.Ordinal);

    /// <inheritdoc/>
    public IForwardBackend Create(SpladeModel model, string device, EncodePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(model);
        device = ForwardBackends.Normalize(device);
        if (precision is not (EncodePrecision.Float32 or EncodePrecision.Float16))
            throw new NotSupportedException($"Device {device} computes in {EncodePrecision.Float32} or {EncodePrecision.Float16}, not {precision}.");
        return device == "ilgpu-cpu" ? CreateCpu(model, precision: precision) : CreateCuda(model, device, precision);
    }

    /// <summary>The ILGPU CPU accelerator backend, with a decoder chunk of <paramref name="logitsBudget"/> floats.</summary>
    internal static CudaForwardBackend CreateCpu(SpladeModel model, long logitsBudget = CudaForwardBackend.DefaultLogitsBudget, int groupSize = CpuGroupSize, EncodePrecision precision = EncodePrecision.Float32)
    {
        var context = CreateCpuContext(groupSize);
        try
        {
            Accelerator accelerator = context.GetCPUDevice(0).CreateCPUAccelerator(context);
            return new CudaForwardBackend("ilgpu-cpu", context, accelerator, k => new PlainGemm(k), model, precision, logitsBudget);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Threads per group on the CPU accelerator: it runs every thread of a group as an OS thread and synchronises them
    /// at each barrier, so groups of 32 as on the GPU are far too slow on a small machine; 4 still exercises the
    /// reductions across threads.
    /// </summary>
    internal const int CpuGroupSize = 4;

    /// <summary>An ILGPU context with one CPU device of <paramref name="groupSize"/> threads per group and one multiprocessor per core (at most 4).</summary>
    internal static Context CreateCpuContext(int groupSize = CpuGroupSize) =>
        Context.Create(b => b.CPU(new CPUDevice(numThreadsPerWarp: groupSize, numWarpsPerMultiprocessor: 1, numMultiprocessors: Math.Clamp(Environment.ProcessorCount, 1, 4))).EnableAlgorithms());

    private CudaForwardBackend CreateCuda(SpladeModel model, string device, EncodePrecision precision)
    {
        int ordinal = int.Parse(device.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
        Probe.Check(device, ordinal);
        Context context;
        try { context = Context.Create(b => b.Cuda().EnableAlgorithms()); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DeviceUnavailableException(device, $"device {device}: ILGPU could not open the CUDA runtime: {e.Message}", e);
        }
        Accelerator? accelerator = null;
        try
        {
            accelerator = context.GetCudaDevice(ordinal).CreateCudaAccelerator(context);
            var cuda = (CudaAccelerator)accelerator;
            return new CudaForwardBackend(device, context, accelerator, _ => OpenCuBlas(device, cuda, precision), model, precision);
        }
        catch
        {
            accelerator?.Dispose();
            context.Dispose();
            throw;
        }
    }

    private static CuBlasGemm OpenCuBlas(string device, CudaAccelerator accelerator, EncodePrecision precision)
    {
        try
        {
            if (precision == EncodePrecision.Float16) CuBlasGemmEx.EnsureLoaded();
            return new CuBlasGemm(accelerator);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CuBlasException or TypeInitializationException)
        {
            throw new DeviceUnavailableException(device, $"device {device}: cuBLAS could not be initialised: {e.Message}", e);
        }
    }

    /// <summary>CUDA devices ILGPU sees (0 when the driver cannot be initialised).</summary>
    private static int CudaDeviceCount()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.GetCudaDevices().Count;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return 0;
        }
    }
}
