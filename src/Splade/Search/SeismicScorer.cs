using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// Query side of <see cref="SearchAlgorithm.Seismic"/> (Bruch et al., SIGIR 2024, Algorithm 2). Per segment,
/// the lists of the <see cref="SeismicOptions.QueryCut"/> largest query terms are visited in decreasing query
/// weight; each block's summary dot product r is computed, and once k documents are held the block is skipped
/// when r &lt; <see cref="SeismicOptions.HeapFactor"/> × the k-th score. Otherwise its documents not yet seen are
/// scored exactly through the forward index: the query is spread into a dense array and each document's terms
/// are visited in ascending order, adding q_t·w (0 for terms outside the query, which leaves a float sum
/// unchanged), so every score is the same float sum as <see cref="SparseVector.Dot"/>.
/// </summary>
internal static class SeismicScorer
{
    [ThreadStatic] private static float[]? t_query;     // [dimension] dense query, zero outside the query terms
    [ThreadStatic] private static int[]? t_seen;        // [max segment docs] stamp of the last search that scored the doc
    [ThreadStatic] private static int t_stamp;

    /// <summary>Documents scored by the last search on this thread (a measurement aid).</summary>
    [ThreadStatic] public static long LastDocsScored;

    public static List<SearchHit> Search(IndexSnapshot snapshot, SparseVector query, int topK, SeismicOptions options)
    {
        LastDocsScored = 0;
        if (topK == 0) return new List<SearchHit>();
        var heap = new TopKHeap(snapshot, topK);
        ReadOnlySpan<int> qi = query.Indices;
        ReadOnlySpan<float> qv = query.Values;
        var dense = t_query;
        if (dense is null || dense.Length < snapshot.Dimension) t_query = dense = new float[snapshot.Dimension];
        for (int i = 0; i < qi.Length; i++) dense[qi[i]] = qv[i];

        // Query cut: the largest weights, visited largest first (ties by term id for determinism).
        var order = new int[qi.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var weights = qv.ToArray();
        Array.Sort(order, (a, b) => { int c = weights[b].CompareTo(weights[a]); return c != 0 ? c : a.CompareTo(b); });
        int cut = Math.Min(options.QueryCut, order.Length);
        try
        {
            for (int s = 0; s < snapshot.Segments.Length; s++)
            {
                var seg = snapshot.Segments[s];
                if (seg.DocCount == 0) continue;
                var index = SeismicSegmentIndex.For(seg, options);
                var seen = t_seen;
                if (seen is null || seen.Length < seg.DocCount) { t_seen = seen = new int[Math.Max(seg.DocCount, 1024)]; t_stamp = 0; }
                if (++t_stamp == int.MaxValue) { Array.Clear(seen); t_stamp = 1; }
                int stamp = t_stamp;
                var deletions = snapshot.Deletions[s];
                for (int c = 0; c < cut; c++)
                {
                    int i = order[c];
                    if (qv[i] <= 0f) continue;
                    int term = qi[i];
                    for (int b = index.TermBlockStart[term]; b < index.TermBlockStart[term + 1]; b++)
                    {
                        if (heap.IsFull && SummaryDot(index, b, dense) < options.HeapFactor * heap.MinScore) continue;
                        for (int p = index.BlockDocStart[b]; p < index.BlockDocStart[b + 1]; p++)
                        {
                            int d = index.ListDocs[p];
                            if (seen[d] == stamp) continue;
                            seen[d] = stamp;
                            if (deletions is not null && deletions.IsDeleted(d)) continue;
                            float score = DocScore(index, d, dense);
                            LastDocsScored++;
                            if (score > 0f) heap.Offer(score, s, d);
                        }
                    }
                }
            }
        }
        finally
        {
            for (int i = 0; i < qi.Length; i++) dense[qi[i]] = 0f;
        }
        return heap.ToHits();
    }

    /// <summary>r = Σ q_t · summary_t over the block's summary entries (an estimate of the block's best score).</summary>
    internal static float SummaryDot(SeismicSegmentIndex index, int block, float[] dense)
    {
        int from = index.SumStart[block], to = index.SumStart[block + 1];
        ref ushort t0 = ref MemoryMarshal.GetArrayDataReference(index.SumTerms);
        ref byte v0 = ref MemoryMarshal.GetArrayDataReference(index.SumValues);
        ref float q0 = ref MemoryMarshal.GetArrayDataReference(dense);
        float sum = 0f;
        for (int j = from; j < to; j++) sum += Unsafe.Add(ref q0, Unsafe.Add(ref t0, j)) * Unsafe.Add(ref v0, j);
        return sum * index.SumScale[block];
    }

    /// <summary>The exact Dot of the query with document <paramref name="doc"/>: its terms ascending, q_t·w summed in that order.</summary>
    internal static float DocScore(SeismicSegmentIndex index, int doc, float[] dense)
    {
        int from = index.FwdStart[doc], to = index.FwdStart[doc + 1];
        ref ushort t0 = ref MemoryMarshal.GetArrayDataReference(index.FwdTerms);
        ref float w0 = ref MemoryMarshal.GetArrayDataReference(index.FwdValues);
        ref float q0 = ref MemoryMarshal.GetArrayDataReference(dense);
        float sum = 0f;
        for (int j = from; j < to; j++)
        {
            float q = Unsafe.Add(ref q0, Unsafe.Add(ref t0, j));
            if (q != 0f) sum += q * Unsafe.Add(ref w0, j);
        }
        return sum;
    }
}
