namespace Splade.Models;

/// <summary>Runtime options of <see cref="SpladeModel"/>.</summary>
public sealed record SpladeModelOptions
{
    /// <summary>Threads used by the kernels (default: all processors). Results do not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Arithmetic of the matrix products (default float32; the int8 modes are approximate and need AVX-512 BW).</summary>
    public EncodePrecision Precision { get; init; } = EncodePrecision.Float32;
}
