using Splade.Sparse;

namespace Splade.Search.Storage;

/// <summary>
/// One segment in memory before it is written: an inverted file in CSR form. Postings of term t
/// are <c>PostDocs/PostValues[TermOffsets[t] .. TermOffsets[t+1])</c>, doc ordinals ascending.
/// </summary>
internal sealed class SegmentData
{
    public SegmentData(int dimension, string[] ids, string?[]? texts, long[] termOffsets, int[] postDocs, float[] postValues)
    {
        Dimension = dimension;
        Ids = ids;
        Texts = texts;
        TermOffsets = termOffsets;   // [dimension + 1]
        PostDocs = postDocs;         // [postings]
        PostValues = postValues;     // [postings]
    }

    public int Dimension { get; }
    public string[] Ids { get; }
    public string?[]? Texts { get; }
    public long[] TermOffsets { get; }
    public int[] PostDocs { get; }
    public float[] PostValues { get; }
    public int DocCount => Ids.Length;

    /// <summary>Inverts documents (ordinal = position in the list).</summary>
    public static SegmentData FromDocuments(int dimension, IReadOnlyList<IndexedDocument> docs)
    {
        var counts = new long[dimension + 1];
        long total = 0;
        foreach (var d in docs)
        {
            foreach (int t in d.Vector.Indices) counts[t + 1]++;
            total += d.Vector.Count;
        }
        if (total > int.MaxValue) throw new InvalidOperationException($"A segment holds at most {int.MaxValue} postings; got {total}. Commit more often.");
        for (int t = 0; t < dimension; t++) counts[t + 1] += counts[t];
        var offsets = (long[])counts.Clone();
        var cursor = (long[])counts.Clone();
        var postDocs = new int[total];
        var postValues = new float[total];
        bool anyText = false;
        var ids = new string[docs.Count];
        var texts = new string?[docs.Count];
        for (int ord = 0; ord < docs.Count; ord++)
        {
            var d = docs[ord];
            ids[ord] = d.Id;
            texts[ord] = d.Text;
            anyText |= d.Text is not null;
            ReadOnlySpan<int> idx = d.Vector.Indices;
            ReadOnlySpan<float> val = d.Vector.Values;
            for (int i = 0; i < idx.Length; i++)
            {
                long at = cursor[idx[i]]++;
                postDocs[at] = ord;
                postValues[at] = val[i];
            }
        }
        return new SegmentData(dimension, ids, anyText ? texts : null, offsets, postDocs, postValues);
    }

    /// <summary>
    /// Merges segments in order, dropping deleted documents; ordinals are renumbered densely, so each
    /// term's merged posting list is the concatenation of the inputs' lists (still ascending).
    /// </summary>
    public static SegmentData Merge(IReadOnlyList<Segment> segments, IReadOnlyList<DeletionSet?> deletions, out int[][] remap)
    {
        int dimension = segments[0].Dimension;
        remap = new int[segments.Count][];
        var ids = new List<string>();
        var texts = new List<string?>();
        bool anyText = false;
        for (int s = 0; s < segments.Count; s++)
        {
            var seg = segments[s];
            var del = deletions[s];
            var map = new int[seg.DocCount];
            for (int ord = 0; ord < seg.DocCount; ord++)
            {
                if (del is not null && del.IsDeleted(ord)) { map[ord] = -1; continue; }
                map[ord] = ids.Count;
                ids.Add(seg.GetId(ord));
                string? text = seg.GetText(ord);
                anyText |= text is not null;
                texts.Add(text);
            }
            remap[s] = map;
        }
        var offsets = new long[dimension + 1];
        for (int t = 0; t < dimension; t++)
        {
            long n = 0;
            for (int s = 0; s < segments.Count; s++)
            {
                var docs = segments[s].Postings(t, out _);
                var map = remap[s];
                foreach (int d in docs) if (map[d] >= 0) n++;
            }
            offsets[t + 1] = offsets[t] + n;
        }
        if (offsets[dimension] > int.MaxValue) throw new InvalidOperationException($"A merged segment would hold {offsets[dimension]} postings, more than {int.MaxValue}.");
        var postDocs = new int[offsets[dimension]];
        var postValues = new float[offsets[dimension]];
        long at = 0;
        for (int t = 0; t < dimension; t++)
        {
            for (int s = 0; s < segments.Count; s++)
            {
                var docs = segments[s].Postings(t, out var values);
                var map = remap[s];
                for (int i = 0; i < docs.Length; i++)
                {
                    int m = map[docs[i]];
                    if (m < 0) continue;
                    postDocs[at] = m;
                    postValues[at++] = values[i];
                }
            }
        }
        return new SegmentData(dimension, ids.ToArray(), anyText ? texts.ToArray() : null, offsets, postDocs, postValues);
    }
}
