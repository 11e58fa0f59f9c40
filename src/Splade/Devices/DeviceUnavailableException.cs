namespace Splade.Devices;

/// <summary>
/// A <see cref="SparseEncoderOptions.Device"/> other than <c>cpu</c> cannot be used: the package that provides it
/// is missing, or the driver, the device or a library the device needs is not found. The message names what is missing.
/// </summary>
public sealed class DeviceUnavailableException : Exception
{
    /// <summary>Creates the exception for <paramref name="device"/>.</summary>
    public DeviceUnavailableException(string device, string message, Exception? inner = null) : base(message, inner) => Device = device;

    /// <summary>The device that was asked for.</summary>
    public string Device { get; }
}
