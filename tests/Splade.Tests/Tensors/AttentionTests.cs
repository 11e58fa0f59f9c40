using Splade.Tensors;
using static Splade.Tests.Tensors.KernelTestUtil;

namespace Splade.Tests.Tensors;

public sealed class AttentionTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 2, 5)]
    [InlineData(31, 4, 8)]
    [InlineData(33, 3, 7)]
    [InlineData(1, 2, 16)]
    [InlineData(7, 4, 64)]
    [InlineData(65, 4, 64)]
    [InlineData(130, 2, 32)]
    [InlineData(31, 1, 48)]
    public void Packed_sequences_match_padded_reference_with_float_min_mask(int maxLength, int heads, int headDim)
    {
        int hidden = heads * headDim, ld = 3 * hidden;
        int[] lengths = [maxLength, Math.Max(1, maxLength / 2), 1];
        int[] starts = [0, lengths[0], lengths[0] + lengths[1]];
        int tokens = lengths.Sum();
        float[] qkv = Random(tokens * ld, maxLength * 31 + heads, scale: 2f);
        var context = new float[tokens * hidden];
        var scratch = new float[lengths.Length * heads * maxLength];
        Attention.Forward(qkv, qkv.AsSpan(hidden), qkv.AsSpan(2 * hidden), ld, starts, lengths, heads, headDim,
            1f / MathF.Sqrt(headDim), default, context, hidden, scratch, new ComputePool(2));

        for (int s = 0; s < lengths.Length; s++)
        {
            // The same sequence right-padded to maxLength with garbage rows, masked out.
            float[] padded = Random(maxLength * ld, 99 + s, scale: 50f);
            Array.Copy(qkv, starts[s] * ld, padded, 0, lengths[s] * ld);
            int[] mask = Enumerable.Range(0, maxLength).Select(i => i < lengths[s] ? 1 : 0).ToArray();
            var expected = new float[maxLength * hidden];
            Attention.Reference(padded, padded.AsSpan(hidden), padded.AsSpan(2 * hidden), ld, maxLength, mask, heads, headDim, expected, hidden);
            float diff = MaxAbsDiff(expected.AsSpan(0, lengths[s] * hidden), context.AsSpan(starts[s] * hidden, lengths[s] * hidden));
            Assert.True(diff <= 1e-5f, $"sequence {s}: {diff}");
        }
    }

    [Fact]
    public void Additive_key_mask_excludes_keys()
    {
        int heads = 2, headDim = 3, hidden = 6, ld = 18, len = 5;
        float[] qkv = Random(len * ld, 3);
        float[] keyMask = [0, 0, float.MinValue, 0, float.MinValue];
        var masked = new float[len * hidden];
        Attention.Forward(qkv, qkv.AsSpan(hidden), qkv.AsSpan(2 * hidden), ld, [0], [len], heads, headDim,
            1f / MathF.Sqrt(headDim), keyMask, masked, hidden, new float[heads * len], ComputePool.Serial);
        var expected = new float[len * hidden];
        Attention.Reference(qkv, qkv.AsSpan(hidden), qkv.AsSpan(2 * hidden), ld, len, [1, 1, 0, 1, 0], heads, headDim, expected, hidden);
        Assert.True(MaxAbsDiff(expected, masked) <= 1e-5f);
    }
}
