using Splade.Search;
using Splade.Search.Storage;

namespace Splade.Tests.Search;

/// <summary>The bitmap form of a posting list (<see cref="TermBitmap"/>, <see cref="BitmapScatter"/>) against the plain scatter through ordinals.</summary>
public sealed class BitmapScatterTests
{
    /// <summary>A random ascending list of about docCount/divisor ordinals with random values in [0, 2.5).</summary>
    private static (int[] Docs, float[] Values) RandomList(Random rng, int docCount, int divisor)
    {
        var docs = Enumerable.Range(0, docCount).Where(_ => rng.Next(divisor) == 0).ToArray();
        var values = docs.Select(_ => (float)(rng.NextDouble() * 2.5)).ToArray();
        return (docs, values);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(63, 1)]
    [InlineData(64, 2)]
    [InlineData(1000, 3)]
    [InlineData(16384, 2)]
    [InlineData(16385, 10)]
    [InlineData(40000, 33)]
    [InlineData(5000, 1000)]
    public void VectorAndBitLoopEqualScatterThroughOrdinals(int docCount, int divisor)
    {
        var rng = new Random(docCount * 31 + divisor);
        var (docs, values) = RandomList(rng, docCount, divisor);
        var map = new TermBitmap(docs, values, docCount);
        Assert.Equal(docs, map.Decode());
        const int Range = 16384;
        const float Ws = 1.7f;
        for (int start = 0; start < docCount; start += Range)
        {
            int end = Math.Min(docCount, start + Range);
            var expected = new float[Range];
            var vector = new float[Range];
            var bits = new float[Range];
            // Non-zero starting accumulators: the additions must land on top of earlier terms.
            for (int i = 0; i < Range; i++) expected[i] = vector[i] = bits[i] = i % 5 == 0 ? 0.25f * i : 0f;
            int first = Array.FindIndex(docs, d => d >= start);
            if (first < 0) first = docs.Length;
            int p = first;
            for (; p < docs.Length && docs[p] < end; p++) expected[docs[p] - start] += Ws * map.Levels[p];
            Assert.Equal(p, BitmapScatter.Add(vector, start, end, map.Bits, map.Levels, first, Ws));
            Assert.Equal(p, BitmapScatter.Reference(bits, start, end, map.Bits, map.Levels, first, Ws));
            for (int i = 0; i < Range; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(vector[i]), $"vector: doc {start + i} of {docCount} (1/{divisor})");
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(bits[i]), $"bit loop: doc {start + i} of {docCount} (1/{divisor})");
            }
        }
    }

    [Fact]
    public void LevelsAreTheSmallestMultipleOfStepAtOrAboveTheValue()
    {
        var rng = new Random(9);
        var values = Enumerable.Range(0, 5000).Select(i => i switch
        {
            0 => 0f,
            1 => float.Epsilon,
            2 => 1e-30f,
            _ => (float)(rng.NextDouble() * (i % 3 == 0 ? 1e-3 : 7.0)),
        }).ToArray();
        values[3] = values.Max();   // the largest value twice
        var docs = Enumerable.Range(0, values.Length).ToArray();
        var map = new TermBitmap(docs, values, values.Length);
        Assert.True(map.Step > 0f);
        for (int i = 0; i < values.Length; i++)
        {
            int level = map.Levels[i];
            Assert.True(level * map.Step >= values[i], $"value {values[i]:R}: level {level}·{map.Step:R} is below it");
            if (level > 0) Assert.True((level - 1) * map.Step < values[i], $"value {values[i]:R}: level {level} is not the smallest");
        }
        Assert.Equal(TermBitmap.MaxLevel, map.Levels[3]);
        Assert.Equal(0, map.Levels[0]);
        Assert.Equal(1, map.Levels[1]);

        var zeros = new TermBitmap([0, 9], [0f, 0f], 10);
        Assert.Equal(0f, zeros.Step);
        Assert.All(zeros.Levels, l => Assert.Equal(0, l));
        Assert.Throws<ArgumentException>(() => new TermBitmap([0, 1], [1f, -1f], 2));
        Assert.Throws<ArgumentException>(() => new TermBitmap([0, 1], [1f, float.NaN], 2));
        Assert.Throws<ArgumentException>(() => new TermBitmap([0, 1], [1f], 2));
    }

    [Fact]
    public void RankAndContainsMatchTheList()
    {
        var rng = new Random(3);
        foreach (int docCount in new[] { 1, 64, 511, 512, 513, 4097 })
            foreach (int divisor in new[] { 1, 2, 7, 100 })
            {
                var (docs, values) = RandomList(rng, docCount, divisor);
                var map = new TermBitmap(docs, values, docCount);
                var set = new HashSet<int>(docs);
                for (int d = 0; d < docCount; d++)
                {
                    Assert.Equal(set.Contains(d), map.Contains(d));
                    int rank = Array.BinarySearch(docs, d);
                    Assert.Equal(rank >= 0 ? rank : ~rank, map.Rank(d));
                }
            }
    }

    [Fact]
    public void MisalignedRangeAndShortAccumulatorAreRejected()
    {
        var map = new TermBitmap([1, 5, 70], [1f, 2f, 3f], 100);
        Assert.Throws<ArgumentException>(() => BitmapScatter.Add(new float[128], 1, 100, map.Bits, map.Levels, 0, 1f));
        Assert.Throws<ArgumentException>(() => BitmapScatter.Reference(new float[128], 1, 100, map.Bits, map.Levels, 0, 1f));
        Assert.Throws<ArgumentException>(() => BitmapScatter.Add(new float[64], 0, 100, map.Bits, map.Levels, 0, 1f));
        Assert.Throws<ArgumentException>(() => BitmapScatter.Add(new float[256], 128, 300, map.Bits, map.Levels, 0, 1f));
    }
}
