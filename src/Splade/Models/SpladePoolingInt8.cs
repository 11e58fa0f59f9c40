using Splade.Tensors;

namespace Splade.Models;

/// <summary>
/// SPLADE max pooling over reduced-precision logits (<see cref="EncodePrecision.Int8Decoder"/> and
/// <see cref="EncodePrecision.Int8"/>): w_j = f(max(0, max_t ŷ_tj)) with ŷ the integer estimate of
/// <see cref="Int8ColumnMax"/> and f = log1p (twice for log1p_relu), which is monotone with f(0) = 0.
/// </summary>
public static class SpladePoolingInt8
{
    /// <summary>Pools every sequence of <paramref name="batch"/> into <paramref name="pooled"/> [sequences, vocab].</summary>
    /// <exception cref="ArgumentException">The configuration is not max pooling.</exception>
    public static void PoolMax(ReadOnlySpan<float> transformed, TokenBatch batch, Int8Matrix decoder, SpladePoolingConfig config, Span<float> pooled, ComputePool pool)
    {
        if (config.Strategy != PoolingStrategy.Max) throw new ArgumentException($"Reduced-precision pooling supports max pooling only, not {config.Strategy}.", nameof(config));
        Int8ColumnMax.Run(transformed, decoder.K, batch.Starts, batch.Lengths, decoder, pooled, pool);
        SpladePooling.ApplyPerRow(config.Transform, pooled, batch.SequenceCount, decoder.N, pool);
    }
}
