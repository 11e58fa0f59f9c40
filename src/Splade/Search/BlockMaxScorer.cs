using System.Numerics;
using System.Runtime.InteropServices;
using Splade.Search.Storage;
using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// Top-k by block-max pruning (BMP: Mallia, Suel &amp; Tonellotto, SIGIR 2024). Per segment:
/// <list type="number">
/// <item>the bound of every block, U(b) = Σ_t q_t · ub(t, b) · termMax_t / 255, accumulated over the query's
/// terms (dense rows vectorised, sparse rows scattered);</item>
/// <item>blocks with U(b) &gt; 0 bucket-sorted by bound (1024 buckets; a lower bucket only holds lower bounds);</item>
/// <item>blocks visited from the highest bucket down; a block is scored, through the segment's per-block
/// forward index, only while α·U(b) ≥ θ − margin, θ being the current k-th score; the search stops at the
/// first bucket whose largest bound fails the test.</item>
/// </list>
///
/// Exactness (α = 1): a block is scored term-at-a-time with the query's terms in ascending id order into
/// an accumulator starting at 0, so each document's score is the same float sum, in the same order, as
/// <see cref="SparseVector.Dot"/>: the scores are the exact ones and go straight into the exact heap
/// (ties by id). Only the skip test uses the float bound. In real arithmetic U(b) ≥ every document's
/// real score in b (weights quantized upward); the float bound and the float score each lie within
/// γ_n·S of their real values (S = Σ_t q_t · termMax_t, γ_n = n·2⁻²⁴/(1−n·2⁻²⁴), Higham §4.2, n + 2
/// roundings for the bound's products). With margin = 16·(n+3)·2⁻²⁴·S ≥ 2γ_{n+2}·S, a skipped block
/// (U &lt; θ − margin) holds no document whose float score reaches θ, so none could enter the heap.
/// Needs non-negative weights; the caller falls back otherwise.
/// </summary>
internal static class BlockMaxScorer
{
    private const int Buckets = 1024;

    [ThreadStatic] private static float[]? t_bounds;   // [blocks of the largest segment]
    [ThreadStatic] private static int[]? t_order;      // [blocks] block ids by bucket
    [ThreadStatic] private static int[]? t_bucketStart; // [Buckets + 1]
    [ThreadStatic] private static float[]? t_bucketMax; // [Buckets]
    [ThreadStatic] private static float[]? t_block;     // [256] one block's scores

    /// <summary>Counters of the last search on this thread (for measurements).</summary>
    [ThreadStatic] public static long LastBlocksScored;

    /// <summary>Blocks scored before the selectivity check.</summary>
    private const int ProbeBlocks = 8;

    /// <summary>
    /// The search, or null when the block bounds do not prune: after the <see cref="ProbeBlocks"/> best
    /// blocks of a segment, more than 1/<paramref name="maxShareInverse"/> of its blocks (and more than 256)
    /// still have a bound above the k-th score. Scoring most blocks through the forward index costs more than
    /// a document-at-a-time pass, so the caller then uses MaxScore. With documents whose terms are independent
    /// (the synthetic benchmark), a block of 64 documents covers nearly every frequent query term and the
    /// bounds exceed the k-th score almost everywhere; with clustered documents (real text, reordered) they
    /// are selective. Pass <paramref name="maxShareInverse"/> = 0 to never give up (tests).
    /// </summary>
    public static List<SearchHit>? Search(IndexSnapshot snapshot, SparseVector query, int topK, float alpha, int maxShareInverse = 16)
    {
        if (topK == 0) return new List<SearchHit>();
        ReadOnlySpan<int> qi = query.Indices;
        ReadOnlySpan<float> qv = query.Values;
        float margin = RoundingMargin.For(snapshot, query, extraOperations: 3);
        var heap = new TopKHeap(snapshot, topK);
        LastBlocksScored = 0;
        for (int segIdx = 0; segIdx < snapshot.Segments.Length; segIdx++)
            if (!ScoreSegment(snapshot, segIdx, qi, qv, heap, margin, alpha, maxShareInverse)) return null;
        return heap.ToHits();
    }

    private static bool ScoreSegment(IndexSnapshot snapshot, int segIdx, ReadOnlySpan<int> qi, ReadOnlySpan<float> qv, TopKHeap heap, float margin, float alpha, int maxShareInverse)
    {
        var seg = snapshot.Segments[segIdx];
        int blocks = seg.BlockCount;
        if (blocks == 0) return true;
        if (t_bounds is null || t_bounds.Length < blocks)
        {
            t_bounds = new float[Math.Max(blocks, 1024)];
            t_order = new int[t_bounds.Length];
        }
        var bounds = t_bounds.AsSpan(0, blocks);   // [blocks]
        var order = t_order!;
        ComputeBounds(seg, qi, qv, bounds);

        // Bucket sort of the blocks with a positive bound.
        float maxBound = 0f;
        foreach (float b in bounds) maxBound = Math.Max(maxBound, b);
        if (maxBound <= 0f || alpha * maxBound < Threshold(heap) - margin) return true;
        var start = t_bucketStart ??= new int[Buckets + 1];
        var bucketMax = t_bucketMax ??= new float[Buckets];
        Array.Clear(start);
        Array.Clear(bucketMax);
        float scale = (Buckets - 1) / maxBound;
        for (int b = 0; b < blocks; b++)
        {
            float u = bounds[b];
            if (u <= 0f) continue;
            int k = Math.Min((int)(u * scale), Buckets - 1);
            start[k + 1]++;
            if (u > bucketMax[k]) bucketMax[k] = u;
        }
        for (int k = 0; k < Buckets; k++) start[k + 1] += start[k];
        int total = start[Buckets];
        // Fill from the end of each bucket backwards so that start[k] ends at the bucket's first slot.
        for (int b = blocks - 1; b >= 0; b--)
        {
            float u = bounds[b];
            if (u <= 0f) continue;
            int k = Math.Min((int)(u * scale), Buckets - 1);
            order[--start[k + 1]] = b;
        }
        // Now bucket k occupies order[start[k + 1] .. start[k + 2]) (the last one ends at total).

        var acc = t_block ??= new float[256];
        var deletions = snapshot.Deletions[segIdx];
        int scored = 0;
        bool probing = maxShareInverse > 0;
        for (int k = Buckets - 1; k >= 0; k--)
        {
            int from = start[k + 1], to = k + 1 < Buckets ? start[k + 2] : total;
            if (from == to) continue;
            if (alpha * bucketMax[k] < Threshold(heap) - margin) return true;   // every later bucket holds lower bounds
            for (int at = from; at < to; at++)
            {
                int b = order[at];
                if (alpha * bounds[b] < Threshold(heap) - margin) continue;
                ScoreBlock(seg, segIdx, b, qi, qv, acc, heap, deletions);
                if (probing && ++scored == ProbeBlocks)
                {
                    probing = false;
                    if (!Selective(start, bucketMax, total, k, heap, margin, alpha, Math.Max(256, blocks / maxShareInverse))) return false;
                }
            }
        }
        return true;
    }

    /// <summary>True when at most <paramref name="limit"/> blocks, from bucket <paramref name="current"/> down, can still pass.</summary>
    private static bool Selective(int[] start, float[] bucketMax, int total, int current, TopKHeap heap, float margin, float alpha, int limit)
    {
        if (!heap.IsFull) return true;
        int passing = 0;
        for (int k = current; k >= 0; k--)
        {
            int size = (k + 1 < Buckets ? start[k + 2] : total) - start[k + 1];
            if (size == 0) continue;   // empty buckets have no maximum
            if (alpha * bucketMax[k] < Threshold(heap) - margin) break;
            passing += size;
            if (passing > limit) return false;
        }
        return true;
    }

    private static float Threshold(TopKHeap heap) => heap.IsFull ? heap.MinScore : float.NegativeInfinity;

    /// <summary>bounds[b] = Σ_t q_t · (termMax_t / 255) · ub(t, b) over the query's terms.</summary>
    internal static void ComputeBounds(Segment seg, ReadOnlySpan<int> qi, ReadOnlySpan<float> qv, Span<float> bounds)
    {
        bounds.Clear();
        ReadOnlySpan<float> termMax = seg.TermMax;
        ReadOnlySpan<int> denseRow = seg.UbDenseRow;
        ReadOnlySpan<long> sparseOffsets = seg.UbSparseOffsets;
        ReadOnlySpan<int> sparseBlocks = seg.UbSparseBlocks;
        ReadOnlySpan<byte> sparseValues = seg.UbSparseValues;
        for (int i = 0; i < qi.Length; i++)
        {
            int t = qi[i];
            if (qv[i] <= 0f || termMax[t] <= 0f) continue;
            float w = qv[i] * (termMax[t] / 255f);
            int row = denseRow[t];
            if (row >= 0)
            {
                AddScaled(bounds, seg.UbDense(row), w);
                continue;
            }
            int a = (int)sparseOffsets[t], e = (int)sparseOffsets[t + 1];
            for (int j = a; j < e; j++) bounds[sparseBlocks[j]] += w * sparseValues[j];
        }
    }

    /// <summary>dst[b] += w · src[b], bytes widened to floats, vectorised.</summary>
    private static void AddScaled(Span<float> dst, ReadOnlySpan<byte> src, float w)
    {
        int b = 0;
        if (Vector.IsHardwareAccelerated && src.Length >= Vector<byte>.Count)
        {
            var wv = new Vector<float>(w);
            var fl = MemoryMarshal.Cast<float, Vector<float>>(dst);
            int lanes = Vector<float>.Count;
            for (; b + Vector<byte>.Count <= src.Length; b += Vector<byte>.Count)
            {
                var bytes = new Vector<byte>(src.Slice(b));
                Vector.Widen(bytes, out Vector<ushort> lo16, out Vector<ushort> hi16);
                Vector.Widen(lo16, out Vector<uint> x0, out Vector<uint> x1);
                Vector.Widen(hi16, out Vector<uint> x2, out Vector<uint> x3);
                int v = b / lanes;
                fl[v] += wv * Vector.ConvertToSingle(Vector.AsVectorInt32(x0));
                fl[v + 1] += wv * Vector.ConvertToSingle(Vector.AsVectorInt32(x1));
                fl[v + 2] += wv * Vector.ConvertToSingle(Vector.AsVectorInt32(x2));
                fl[v + 3] += wv * Vector.ConvertToSingle(Vector.AsVectorInt32(x3));
            }
        }
        for (; b < src.Length; b++) dst[b] += w * src[b];
    }

    /// <summary>Scores every document of block <paramref name="b"/> exactly (ascending query terms) and offers it.</summary>
    private static void ScoreBlock(Segment seg, int segIdx, int b, ReadOnlySpan<int> qi, ReadOnlySpan<float> qv, float[] acc, TopKHeap heap, DeletionSet? deletions)
    {
        LastBlocksScored++;
        ReadOnlySpan<int> pairTerms = seg.PairTerms;
        ReadOnlySpan<int> postStart = seg.PairPostStart;
        ReadOnlySpan<byte> fwdDocs = seg.FwdDocs;
        ReadOnlySpan<float> fwdValues = seg.FwdValues;
        int lo = (int)seg.BlockPairOffsets[b], hi = (int)seg.BlockPairOffsets[b + 1];
        for (int i = 0; i < qi.Length && lo < hi; i++)
        {
            float w = qv[i];
            if (w == 0f) continue;
            int found = pairTerms.Slice(lo, hi - lo).BinarySearch(qi[i]);
            if (found < 0) { lo += ~found; continue; }
            int pair = lo + found;
            lo = pair + 1;
            SearchCounters.Postings += postStart[pair + 1] - postStart[pair];
            for (int p = postStart[pair], end = postStart[pair + 1]; p < end; p++) acc[fwdDocs[p]] += w * fwdValues[p];
        }
        int first = b * seg.BlockSize, count = Math.Min(seg.BlockSize, seg.DocCount - first);
        for (int j = 0; j < count; j++)
        {
            float score = acc[j];
            if (score == 0f) continue;
            acc[j] = 0f;
            if (score > 0f && score >= Threshold(heap) && (deletions is null || !deletions.IsDeleted(first + j)))
                heap.Offer(score, segIdx, first + j);
        }
    }
}
