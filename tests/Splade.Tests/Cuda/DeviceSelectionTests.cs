using Splade.Cuda;
using Splade.Devices;
using Splade.Models;
using Xunit.Abstractions;

namespace Splade.Tests.Cuda;

/// <summary>Device names, and the typed errors of a device that cannot be used (each missing piece named).</summary>
public sealed class DeviceSelectionTests(ITestOutputHelper output)
{
    private static readonly string Tiny = TestData.Model("tiny-splade");

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CPU ", "cpu")]
    [InlineData("cuda", "cuda:0")]
    [InlineData("CUDA:1", "cuda:1")]
    [InlineData("cuda:007", "cuda:7")]
    [InlineData("ilgpu-cpu", "ilgpu-cpu")]
    public void Device_names_are_normalised(string given, string expected) => Assert.Equal(expected, ForwardBackends.Normalize(given));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("")]
    public void Unknown_device_names_are_rejected(string given)
    {
        var e = Assert.Throws<ArgumentException>(() => ForwardBackends.Normalize(given));
        Assert.Contains("cuda", e.Message);
    }

    [Fact]
    public void Cpu_device_loads_the_managed_encoder_without_a_backend()
    {
        using var encoder = SparseEncoder.Load(Tiny, new SparseEncoderOptions { Threads = 1, Device = "cpu" });
        Assert.Null(encoder.Model.Backend);
        Assert.Equal("cpu", encoder.Device);
    }

    [Fact]
    public void A_reduced_precision_with_a_device_is_an_argument_error()
    {
        var e = Assert.Throws<ArgumentException>(() => SparseEncoder.Load(Tiny, new SparseEncoderOptions { Device = "cuda", Precision = EncodePrecision.Int8 }));
        Assert.Contains("cpu device only", e.Message);
    }

    [Fact]
    public void A_missing_provider_assembly_gives_the_package_error()
    {
        Assert.Null(ForwardBackends.TryLoadProvider("Splade.Cuda.NotThere"));
        DeviceUnavailableException e = ForwardBackends.MissingPackage("cuda:0");
        Assert.Equal("cuda:0", e.Device);
        Assert.Contains("needs the Splade.Cuda package", e.Message);
    }

    [Fact]
    public void The_provider_is_found_by_assembly_name()
    {
        IForwardBackendProvider? provider = ForwardBackends.TryLoadProvider(ForwardBackends.CudaAssemblyName);
        Assert.IsType<CudaBackendProvider>(provider);
        Assert.True(provider!.Handles("cuda:3"));
        Assert.True(provider.Handles("ilgpu-cpu"));
        Assert.False(provider.Handles("cpu"));
    }

    [Fact]
    public void No_driver_names_libcuda()
    {
        var e = CreateWith(new CudaProbe { CanLoad = _ => false, DeviceCount = () => 1 }, "cuda:0");
        Assert.Contains("no CUDA driver", e.Message);
        Assert.Contains(CudaProbe.DriverLibraries[0], e.Message);
    }

    [Fact]
    public void A_driver_without_devices_says_so()
    {
        var e = CreateWith(new CudaProbe { CanLoad = _ => true, DeviceCount = () => 0 }, "cuda:0");
        Assert.Contains("reports no CUDA device", e.Message);
    }

    [Fact]
    public void A_device_number_past_the_last_names_the_ones_there_are()
    {
        var e = CreateWith(new CudaProbe { CanLoad = _ => true, DeviceCount = () => 2 }, "cuda:2");
        Assert.Contains("no CUDA device 2", e.Message);
        Assert.Contains("cuda:0 .. cuda:1", e.Message);
    }

    [Fact]
    public void No_cublas_names_the_library()
    {
        var probe = new CudaProbe { CanLoad = name => CudaProbe.DriverLibraries.Contains(name), DeviceCount = () => 1 };
        var e = CreateWith(probe, "cuda:0");
        Assert.Contains("cuBLAS library was not found", e.Message);
        Assert.Contains(CudaProbe.CuBlasLibraries[0], e.Message);
    }

    [Fact]
    public void Cuda_on_this_machine_either_loads_or_fails_with_a_typed_error()
    {
        try
        {
            using var encoder = SparseEncoder.Load(Tiny, new SparseEncoderOptions { Threads = 1, Device = "cuda" });
            output.WriteLine($"CUDA present: {encoder.Model.Backend!.Description}");
            Assert.Equal("cuda:0", encoder.Device);
        }
        catch (DeviceUnavailableException e)
        {
            output.WriteLine($"No usable CUDA device here: {e.Message}");
            Assert.Equal("cuda:0", e.Device);
            Assert.StartsWith("device cuda:0: ", e.Message);
        }
    }

    private static DeviceUnavailableException CreateWith(CudaProbe probe, string device)
    {
        var model = SpladeModel.Load(Tiny, new SpladeModelOptions { Threads = 1 });
        var provider = new CudaBackendProvider { Probe = probe };
        var e = Assert.Throws<DeviceUnavailableException>(() => provider.Create(model, device, EncodePrecision.Float32));
        Assert.Equal(device, e.Device);
        return e;
    }
}
