using Splade.Search.Storage;

namespace Splade.Search;

/// <summary>An immutable view of the committed index: segments and their tombstones. Searches read one snapshot.</summary>
internal sealed class IndexSnapshot
{
    public IndexSnapshot(int dimension, long generation, Segment[] segments, DeletionSet?[] deletions)
    {
        Dimension = dimension;
        Generation = generation;
        Segments = segments;
        Deletions = deletions;
        bool allBlocks = true;
        for (int i = 0; i < segments.Length; i++)
        {
            LiveCount += segments[i].DocCount - (deletions[i]?.Count ?? 0);
            HasNegative |= segments[i].HasNegative;
            MaxSegmentDocs = Math.Max(MaxSegmentDocs, segments[i].DocCount);
            allBlocks &= segments[i].HasBlocks;
        }
        AllHaveBlocks = allBlocks;
    }

    public int Dimension { get; }
    public long Generation { get; }
    public Segment[] Segments { get; }
    public DeletionSet?[] Deletions { get; }
    public long LiveCount { get; }
    public bool HasNegative { get; }
    public int MaxSegmentDocs { get; }

    /// <summary>True when every segment carries block-max structures.</summary>
    public bool AllHaveBlocks { get; }

    public bool IsLive(int segment, int ord) => Deletions[segment] is not { } d || !d.IsDeleted(ord);

    public string GetId(int segment, int ord) => Segments[segment].GetId(ord);
}
