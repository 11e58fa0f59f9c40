using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// Exact top-k with dynamic pruning: MaxScore (Turtle &amp; Flood 1995) evaluated over ranges of
/// documents. Per segment, query terms are sorted by their upper bound u_t = q_t · max_d w_{t,d};
/// the longest prefix whose bounds sum below the current threshold is "non-essential": a document
/// matching only those terms cannot enter the top-k. For each range of <see cref="RangeDocs"/>
/// documents, the essential lists are scattered into a small (L2-resident) accumulator; only
/// documents whose partial score plus the non-essential bound reaches the threshold look up the
/// non-essential terms, one at a time, dropping out as soon as the remaining bound cannot lift them.
///
/// Exactness: the pruned pass sums products in another order than <see cref="SparseVector.Dot"/>,
/// so its scores may differ from the exact ones by rounding. With n query terms and
/// S = Σ_t q_t · max w_t, both orders are within γ_n·S (γ_n = n·2⁻²⁴/(1−n·2⁻²⁴), Higham, Accuracy and
/// Stability of Numerical Algorithms, §4.2) of the real sum. The pool keeps every candidate within a
/// margin of 16·(n+1)·2⁻²⁴·S of the k-th approximate score and prunes only below that, then the final
/// scores are recomputed in ascending term order (the exact Dot) and ranked with ties by id. The
/// result is therefore identical, ids and scores, to the exhaustive search.
/// Needs non-negative weights (SPLADE and BM25 are); otherwise the caller uses the exhaustive scorer.
/// </summary>
internal static class MaxScoreScorer
{
    /// <summary>
    /// Documents per range: the accumulator (4 B each, 64 KiB) stays in the L2 cache. Measured at 1M synthetic
    /// documents (one run, p50): 4096 → 3.4–3.6 ms, 8192 → 2.8–2.9, 16384 → 2.7–2.85, 32768 and 65536 → 2.9–3.3:
    /// fewer, longer runs per essential list (fewer list switches and range searches) outweigh the L1 misses.
    /// </summary>
    public const int RangeDocs = 16384;   // a multiple of 64 (bitmap words)

    /// <summary>
    /// Fraction of the threshold the non-essential bounds may sum to. Classic MaxScore uses 1; then,
    /// on weights without skew (the synthetic benchmark), nearly every document passes the gate and
    /// pays one posting-list search per non-essential term, which costs more than scattering those
    /// lists. A smaller budget keeps the gate selective; any value in [0, 1] is exact. Measured at 1M
    /// synthetic documents: 0.35 beat 0.6 and 0.9 (at the final threshold, 0.35 leaves 56% of the
    /// postings essential and ~370 candidates per query; 0.7 leaves 34% but ~17,000 candidates). With
    /// frequent terms read as bitmaps, measured again (two runs each, p50): 0.2 → 1.78–1.79 ms,
    /// 0.35 → 1.65–1.76, 0.5 → 1.78–1.82, 0.7 → 2.47–2.55.
    /// </summary>
    public const float NonEssentialBudget = 0.35f;

    [ThreadStatic] private static float[]? t_accumulator;

    private struct Term
    {
        public int Start, Length;   // into the segment's posting arrays
        public float Weight, Bound;
        public int Cursor;
        public int Id;              // term id
        public bool Dense;          // stored as a bitmap too (see Storage.TermBitmaps)
    }

    /// <summary>
    /// Top-k; <paramref name="alpha"/> &lt; 1 scales the bounds of unseen terms (approximate), 1 is exact. With
    /// <paramref name="rescoreWith"/> (approximate), candidates are gathered with <paramref name="query"/> in a pool
    /// of 2·top-k and scored exactly with <paramref name="rescoreWith"/>.
    /// </summary>
    public static List<SearchHit> Search(IndexSnapshot snapshot, SparseVector query, int topK, float alpha = 1f, SparseVector? rescoreWith = null)
    {
        if (topK == 0) return new List<SearchHit>();
        ReadOnlySpan<int> qi = query.Indices;
        ReadOnlySpan<float> qv = query.Values;

        float margin = RoundingMargin.For(snapshot, query, extraOperations: 1) + LevelMargin(snapshot, query);
        var pool = new CandidatePool(rescoreWith is null ? topK : 2 * topK, margin);

        var acc = t_accumulator ??= new float[RangeDocs];   // [RangeDocs]
        for (int sIdx = 0; sIdx < snapshot.Segments.Length; sIdx++)
            ScoreSegment(snapshot, sIdx, qi, qv, pool, acc, alpha);

        // Exact recomputation of every surviving candidate, ascending term order.
        var heap = new TopKHeap(snapshot, topK);
        if (rescoreWith is not null) { qi = rescoreWith.Indices; qv = rescoreWith.Values; }
        var candidates = pool.Candidates().ToArray();
        float[] exact = ExactScores(snapshot, qi, qv, candidates);
        for (int c = 0; c < candidates.Length; c++)
            if (exact[c] > 0f) heap.Offer(exact[c], candidates[c].Segment, candidates[c].Ord);
        return heap.ToHits();
    }

    /// <summary>
    /// <see cref="ExactScore"/> of every candidate, term by term: per query term (ascending) the candidates of a
    /// segment are located in its posting list by one forward gallop in ordinal order instead of a binary search
    /// each. Every candidate's sum adds the same products in the same (ascending term) order, so the scores are
    /// bit-identical to ExactScore's.
    /// </summary>
    internal static float[] ExactScores(IndexSnapshot snapshot, ReadOnlySpan<int> qi, ReadOnlySpan<float> qv, (int Segment, int Ord)[] candidates)
    {
        var sums = new float[candidates.Length];
        if (candidates.Length == 0) return sums;
        // Candidate positions sorted by (segment, ordinal).
        var order = new int[candidates.Length];
        for (int c = 0; c < order.Length; c++) order[c] = c;
        Array.Sort(order, (a, b) => candidates[a].Segment != candidates[b].Segment
            ? candidates[a].Segment.CompareTo(candidates[b].Segment) : candidates[a].Ord.CompareTo(candidates[b].Ord));
        SearchCounters.Postings += (long)qi.Length * candidates.Length;
        int from = 0;
        while (from < order.Length)
        {
            int segIdx = candidates[order[from]].Segment, to = from;
            while (to < order.Length && candidates[order[to]].Segment == segIdx) to++;
            var seg = snapshot.Segments[segIdx];
            var bitmaps = seg.Bitmaps;
            for (int i = 0; i < qi.Length; i++)
            {
                float w = qv[i];
                if (w == 0f) continue;
                var docs = seg.Postings(qi[i], out var values);
                if (docs.Length == 0) continue;
                if (bitmaps.IsDense(docs.Length))
                {
                    var map = bitmaps.Get(qi[i]);
                    for (int c = from; c < to; c++)
                    {
                        int ord = candidates[order[c]].Ord;
                        if (map.Contains(ord)) sums[order[c]] += w * values[map.Rank(ord)];
                    }
                    continue;
                }
                int p = 0;
                for (int c = from; c < to && p < docs.Length; c++)
                {
                    int ord = candidates[order[c]].Ord;
                    p = Gallop(docs, p, ord);
                    if (p < docs.Length && docs[p] == ord) sums[order[c]] += w * values[p];
                }
            }
            from = to;
        }
        return sums;
    }

    /// <summary>
    /// Frequent terms are scattered from 8-bit levels rounded up (<see cref="Storage.TermBitmap"/>), which
    /// raise a partial score by less than q_t·Step_t each: Σ_t q_t·Step_t over the query terms read that
    /// way in some segment. Added to the pool's margin, it keeps every document of the exact top-k
    /// (the pool's argument with a one-sided error), and final scores come from the float values.
    /// </summary>
    internal static float LevelMargin(IndexSnapshot snapshot, SparseVector query)
    {
        ReadOnlySpan<int> qi = query.Indices;
        ReadOnlySpan<float> qv = query.Values;
        double sum = 0;
        for (int i = 0; i < qi.Length; i++)
        {
            if (qv[i] == 0f) continue;
            float step = 0f;
            foreach (var seg in snapshot.Segments)
            {
                var docs = seg.Postings(qi[i], out _);
                if (seg.Bitmaps.IsDense(docs.Length)) step = Math.Max(step, seg.TermMax[qi[i]]);
            }
            sum += (double)qv[i] * step / Storage.TermBitmap.MaxLevel;
        }
        return (float)(sum * 1.001);
    }

    /// <summary>The Dot product of the query with one stored document, in ascending term order (frequent terms located through their bitmaps).</summary>
    internal static float ExactScore(Storage.Segment seg, ReadOnlySpan<int> qi, ReadOnlySpan<float> qv, int ord)
    {
        var bitmaps = seg.Bitmaps;
        float sum = 0f;
        SearchCounters.Postings += qi.Length;
        for (int i = 0; i < qi.Length; i++)
        {
            if (qv[i] == 0f) continue;
            var docs = seg.Postings(qi[i], out var values);
            if (bitmaps.IsDense(docs.Length))
            {
                var map = bitmaps.Get(qi[i]);
                if (map.Contains(ord)) sum += qv[i] * values[map.Rank(ord)];
                continue;
            }
            int at = docs.BinarySearch(ord);
            if (at >= 0) sum += qv[i] * values[at];
        }
        return sum;
    }

    private static void ScoreSegment(IndexSnapshot snapshot, int segIdx, ReadOnlySpan<int> qi, ReadOnlySpan<float> qv, CandidatePool pool, float[] acc, float alpha)
    {
        var seg = snapshot.Segments[segIdx];
        var deletions = snapshot.Deletions[segIdx];
        ReadOnlySpan<long> offsets = seg.TermOffsets;
        ReadOnlySpan<float> termMax = seg.TermMax;
        ReadOnlySpan<int> allDocs = seg.AllPostDocs;
        ReadOnlySpan<float> allValues = seg.AllPostValues;

        var bitmaps = seg.Bitmaps;
        Span<Term> terms = qi.Length <= 256 ? stackalloc Term[qi.Length] : new Term[qi.Length];
        int n = 0;
        for (int i = 0; i < qi.Length; i++)
        {
            int t = qi[i];
            if (qv[i] == 0f || offsets[t + 1] == offsets[t]) continue;
            int length = (int)(offsets[t + 1] - offsets[t]);
            terms[n++] = new Term { Start = (int)offsets[t], Length = length, Weight = qv[i], Bound = qv[i] * termMax[t], Id = t, Dense = bitmaps.IsDense(length) };
        }
        if (n == 0) return;
        terms = terms[..n];
        // Non-essential terms are a prefix of this order. Any set whose bounds sum below the threshold is
        // valid; to skip the most postings for the bound it spends, the prefix is chosen greedily by
        // postings per unit of bound (the fractional-knapsack order), long lists with small bounds first.
        terms.Sort((a, b) => ((double)b.Length * a.Bound).CompareTo((double)a.Length * b.Bound));
        // prefix[i] = α · Σ_{j<i} Bound_j. The approximate mode (α < 1) shrinks only the bounds of the
        // not-yet-seen terms, never the known partial scores; α = 1 multiplies exactly.
        Span<float> prefix = stackalloc float[n + 1];
        prefix[0] = 0f;
        for (int i = 0; i < n; i++) prefix[i + 1] = prefix[i] + alpha * terms[i].Bound;

        int essentialFrom = 0;
        int docCount = seg.DocCount;
        for (int start = 0; start < docCount; start += RangeDocs)
        {
            int end = Math.Min(start + RangeDocs, docCount);
            float cutoff = pool.Cutoff;
            if (prefix[n] < cutoff) return;   // even a document holding every term cannot reach the top-k
            while (essentialFrom < n && prefix[essentialFrom + 1] < NonEssentialBudget * cutoff) essentialFrom++;

            // Essential terms: scatter this range's postings.
            for (int i = essentialFrom; i < n; i++)
            {
                ref Term term = ref terms[i];
                if (term.Dense)
                {
                    // Bitmap lists: 8-bit levels rounded up (see LevelMargin); the cursor advances by the range's set bits, as the scatter below would.
                    var map = bitmaps.Get(term.Id);
                    int before = term.Cursor;
                    term.Cursor = BitmapScatter.Add(acc, start, end, map.Bits, map.Levels, term.Cursor, term.Weight * map.Step);
                    SearchCounters.Postings += term.Cursor - before;
                    continue;
                }
                var docs = allDocs.Slice(term.Start, term.Length);
                var values = allValues.Slice(term.Start, term.Length);
                int p = term.Cursor;
                float w = term.Weight;
                int listLength = docs.Length;
                // Bounds-check-free scatter: p < listLength and start ≤ docs[p] < end ≤ start + RangeDocs. The range's
                // end is found by the loop's own test (a search for it ahead of the scatter touched memory the
                // scatter had not loaded yet, and took ~14 % of the query time).
                ref int d0 = ref MemoryMarshal.GetReference(docs);
                ref float v0 = ref MemoryMarshal.GetReference(values);
                ref float a0 = ref MemoryMarshal.GetArrayDataReference(acc);
                // Unrolled by 4 while the fourth posting is still in the range (the ordinals ascend): one list
                // holds a document once, so the four updates never touch the same slot.
                for (; p + 4 <= listLength && Unsafe.Add(ref d0, p + 3) < end; p += 4)
                {
                    int x0 = Unsafe.Add(ref d0, p) - start, x1 = Unsafe.Add(ref d0, p + 1) - start;
                    int x2 = Unsafe.Add(ref d0, p + 2) - start, x3 = Unsafe.Add(ref d0, p + 3) - start;
                    float y0 = w * Unsafe.Add(ref v0, p), y1 = w * Unsafe.Add(ref v0, p + 1);
                    float y2 = w * Unsafe.Add(ref v0, p + 2), y3 = w * Unsafe.Add(ref v0, p + 3);
                    Unsafe.Add(ref a0, x0) += y0;
                    Unsafe.Add(ref a0, x1) += y1;
                    Unsafe.Add(ref a0, x2) += y2;
                    Unsafe.Add(ref a0, x3) += y3;
                }
                for (; p < listLength && Unsafe.Add(ref d0, p) < end; p++) Unsafe.Add(ref a0, Unsafe.Add(ref d0, p) - start) += w * Unsafe.Add(ref v0, p);
                SearchCounters.Postings += p - term.Cursor;
                term.Cursor = p;
            }

            // Scan: only documents whose essential score + non-essential bound can reach the cutoff; the gate follows
            // the cutoff as candidates raise it (in the first range the cutoff is −∞ when the scan starts, which would pass every document).
            float nonEssentialBound = prefix[essentialFrom];
            float gate = Math.Max(cutoff - nonEssentialBound, float.Epsilon);
            int length = end - start, local = 0;
            ref float s0 = ref MemoryMarshal.GetArrayDataReference(acc);
            if (Vector512.IsHardwareAccelerated)
            {
                // Reads and clears sixteen accumulators at a time; the few that pass the gate are checked
                // against the gate as it stands when their turn comes.
                var gateV = Vector512.Create(gate);
                for (; local + 16 <= length; local += 16)
                {
                    var x = Vector512.LoadUnsafe(ref s0, (nuint)local);
                    Vector512<float>.Zero.StoreUnsafe(ref s0, (nuint)local);
                    ulong pass = Vector512.GreaterThanOrEqual(x, gateV).ExtractMostSignificantBits();
                    if (pass == 0) continue;
                    for (; pass != 0; pass &= pass - 1)
                    {
                        int lane = BitOperations.TrailingZeroCount(pass);
                        float score = x.GetElement(lane);
                        if (score < gate) continue;
                        Candidate(terms, essentialFrom, prefix, pool, deletions, segIdx, start + local + lane, score, allDocs, allValues, bitmaps);
                        gate = Math.Max(gate, pool.Cutoff - nonEssentialBound);
                    }
                    gateV = Vector512.Create(gate);
                }
            }
            for (; local < length; local++)
            {
                float score = Unsafe.Add(ref s0, local);
                Unsafe.Add(ref s0, local) = 0f;
                if (score >= gate)
                {
                    Candidate(terms, essentialFrom, prefix, pool, deletions, segIdx, start + local, score, allDocs, allValues, bitmaps);
                    gate = Math.Max(gate, pool.Cutoff - nonEssentialBound);
                }
            }
        }
    }

    private static void Candidate(Span<Term> terms, int essentialFrom, ReadOnlySpan<float> prefix, CandidatePool pool,
        Storage.DeletionSet? deletions, int segIdx, int doc, float score, ReadOnlySpan<int> allDocs, ReadOnlySpan<float> allValues, Storage.TermBitmaps bitmaps)
    {
        float cutoff = pool.Cutoff;
        for (int j = essentialFrom - 1; j >= 0; j--)
        {
            if (score + prefix[j + 1] < cutoff) return;
            ref Term term = ref terms[j];
            if (term.Dense)
            {
                // One bit test, and a rank for the value, instead of a search through the ordinals.
                var map = bitmaps.Get(term.Id);
                SearchCounters.Postings++;
                if (map.Contains(doc)) score += term.Weight * allValues[term.Start + map.Rank(doc)];
                continue;
            }
            var docs = allDocs.Slice(term.Start, term.Length);
            SearchCounters.Postings++;
            int p = Gallop(docs, term.Cursor, doc);
            term.Cursor = p;
            if (p < docs.Length && docs[p] == doc) score += term.Weight * allValues[term.Start + p];
        }
        if (score < cutoff || score <= 0f) return;
        if (deletions is not null && deletions.IsDeleted(doc)) return;
        pool.Offer(score, segIdx, doc);
    }

    /// <summary>First position at or after <paramref name="from"/> whose doc is ≥ <paramref name="target"/>.</summary>
    private static int Gallop(ReadOnlySpan<int> docs, int from, int target)
    {
        if (from >= docs.Length || docs[from] >= target) return from;
        int step = 1, lo = from, hi = from + 1;
        while (hi < docs.Length && docs[hi] < target) { lo = hi; step <<= 1; hi = lo + step; }
        hi = Math.Min(hi, docs.Length);
        // docs[lo] < target, answer in (lo, hi]
        int found = docs.Slice(lo + 1, hi - lo - 1).BinarySearch(target);
        return lo + 1 + (found >= 0 ? found : ~found);
    }
}
