using Splade.Models;

namespace Splade.Devices;

/// <summary>Creates <see cref="IForwardBackend"/>s for the device names it knows (registered with <see cref="ForwardBackends.Register"/>).</summary>
public interface IForwardBackendProvider
{
    /// <summary>The device names it accepts, for messages (e.g. <c>cuda</c>, <c>cuda:N</c>, <c>ilgpu-cpu</c>).</summary>
    IReadOnlyList<string> DeviceNames { get; }

    /// <summary>Whether <paramref name="device"/> (already lower-cased) is one of its devices.</summary>
    bool Handles(string device);

    /// <summary>Uploads the weights of <paramref name="model"/> to <paramref name="device"/>, for matrix products in <paramref name="precision"/>.</summary>
    /// <exception cref="DeviceUnavailableException">The device, its driver or a library it needs is missing.</exception>
    /// <exception cref="NotSupportedException">The device does not offer <paramref name="precision"/>.</exception>
    IForwardBackend Create(SpladeModel model, string device, EncodePrecision precision);
}
