namespace Splade.Models;

/// <summary>
/// Arithmetic of the network's matrix products. <see cref="Float32"/> is the default and the
/// reference; the reduced modes trade a small, measured change of the vectors for speed (see
/// docs/performance.md, "Reduced precision").
/// </summary>
public enum EncodePrecision
{
    /// <summary>float32 weights and activations; SPLADE max pooling exact (bit-identical to the float logits).</summary>
    Float32,

    /// <summary>
    /// The MLM decoder (hidden → vocabulary logits, most of the arithmetic) with 7-bit weights (63 levels
    /// each side of 0, one scale per vocabulary row) and 8-bit activations (131 levels, one step and zero
    /// point per token); max pooling over these approximate logits. The encoder stays float32. Sum
    /// pooling keeps the float decoder.
    /// </summary>
    Int8Decoder,

    /// <summary>
    /// As <see cref="Int8Decoder"/>, and the encoder's linear layers (Q/K/V, attention output,
    /// intermediate, output) in 8-bit weights (127 levels each side of 0) and 7-bit activations (65
    /// levels per token); attention, LayerNorm, GELU and the MLM transform stay float32.
    /// </summary>
    Int8,

    /// <summary>
    /// On a device only (<see cref="SparseEncoderOptions.Device"/> cuda or ilgpu-cpu): the matrix products with fp16
    /// weights and activations and float32 accumulation; embeddings, attention, LayerNorm, GELU and pooling in float32.
    /// See docs/gpu.md.
    /// </summary>
    Float16,
}
