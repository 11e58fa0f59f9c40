using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// The plain baseline: term-at-a-time over every posting of every query term into a dense
/// accumulator (one float per document of the segment), then a scan into an exact top-k heap.
/// Terms are visited in ascending id order, so each accumulator is the float sum of the same
/// products in the same order as <see cref="SparseVector.Dot"/> — scores are bit-identical.
/// </summary>
internal static class ExhaustiveScorer
{
    [ThreadStatic] private static float[]? t_accumulator;

    public static List<SearchHit> Search(IndexSnapshot snapshot, SparseVector query, int topK)
    {
        var heap = new TopKHeap(snapshot, topK);
        if (topK == 0) return new List<SearchHit>();
        var acc = t_accumulator;
        if (acc is null || acc.Length < snapshot.MaxSegmentDocs) t_accumulator = acc = new float[Math.Max(snapshot.MaxSegmentDocs, 1024)];
        ReadOnlySpan<int> qi = query.Indices;
        ReadOnlySpan<float> qv = query.Values;
        for (int s = 0; s < snapshot.Segments.Length; s++)
        {
            var seg = snapshot.Segments[s];
            var scores = acc.AsSpan(0, seg.DocCount);   // [docs of the segment]
            for (int i = 0; i < qi.Length; i++)
            {
                float w = qv[i];
                if (w == 0f) continue;
                var docs = seg.Postings(qi[i], out var values);
                SearchCounters.Postings += docs.Length;
                Scatter(scores, docs, values, w);
            }
            for (int d = 0; d < scores.Length; d++)
            {
                float score = scores[d];
                if (score == 0f) continue;
                scores[d] = 0f;
                if (score > 0f && snapshot.IsLive(s, d)) heap.Offer(score, s, d);
            }
        }
        return heap.ToHits();
    }

    /// <summary>scores[docs[p]] += w·values[p] for every posting (document ordinals checked against the segment once, when it was opened).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Scatter(Span<float> scores, ReadOnlySpan<int> docs, ReadOnlySpan<float> values, float w)
    {
        fixed (float* acc = scores, v = values)
        fixed (int* d = docs)
        {
            for (int p = 0; p < docs.Length; p++) acc[d[p]] += w * v[p];
        }
    }
}
