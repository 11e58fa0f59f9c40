using Splade.Search;

namespace Splade.Tests.Search;

internal static class SearchAssert
{
    /// <summary>Same ids, same order, bit-identical scores.</summary>
    public static void Identical(IReadOnlyList<SearchHit> expected, IReadOnlyList<SearchHit> actual, string context)
    {
        Assert.True(expected.Count == actual.Count, $"{context}: {actual.Count} hits, expected {expected.Count}");
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Id == actual[i].Id, $"{context}: rank {i} id {actual[i].Id}, expected {expected[i].Id}");
            Assert.True(BitConverter.SingleToInt32Bits(expected[i].Score) == BitConverter.SingleToInt32Bits(actual[i].Score),
                $"{context}: rank {i} score {actual[i].Score:R}, expected {expected[i].Score:R}");
        }
    }
}
