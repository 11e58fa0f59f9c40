using Splade.Devices;

namespace Splade.Cli;

/// <summary>`--device cpu|cuda|cuda:N|ilgpu-cpu`: where the network runs (<see cref="SparseEncoderOptions.Device"/>; docs/gpu.md).</summary>
internal static class DeviceOption
{
    public static string Get(CommandArgs args) => Parse(args.Get("device"));

    public static string Parse(string? value)
    {
        if (value is null) return "cpu";
        try { return ForwardBackends.Normalize(value); }
        catch (ArgumentException e) { throw new CliException($"--device: {e.Message}"); }
    }
}
