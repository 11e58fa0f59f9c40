using Splade.Models;
using Splade.Sparse;

namespace Splade.Devices;

/// <summary>
/// Runs the document route of a loaded <see cref="SpladeModel"/> (BertForMaskedLM + SpladePooling) somewhere
/// other than the managed CPU kernels, e.g. on a GPU: a token batch in, one pooled sparse vector per sequence out.
/// Implementations hold their own copy of the weights (uploaded once) and are thread-safe.
/// </summary>
public interface IForwardBackend : IDisposable
{
    /// <summary>The device it runs on, as given to <see cref="SparseEncoderOptions.Device"/> (e.g. <c>cuda:0</c>).</summary>
    string Device { get; }

    /// <summary>One line describing the hardware and libraries in use (e.g. the GPU name and cuBLAS).</summary>
    string Description { get; }

    /// <summary>Arithmetic of the matrix products (<see cref="EncodePrecision.Float32"/> or <see cref="EncodePrecision.Float16"/>).</summary>
    EncodePrecision Precision { get; }

    /// <summary>Bytes of device memory the backend holds now (weights and buffers).</summary>
    long DeviceMemoryBytes { get; }

    /// <summary>
    /// SPLADE vectors of the sequences of <paramref name="batch"/>, in order (max_active_dims is applied by the caller).
    /// An empty sequence gives an empty vector.
    /// </summary>
    SparseVector[] ForwardPooled(TokenBatch batch);
}
