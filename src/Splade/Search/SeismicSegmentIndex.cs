using System.Runtime.CompilerServices;
using Splade.Search.Storage;

namespace Splade.Search;

/// <summary>
/// The in-memory structures of <see cref="SearchAlgorithm.Seismic"/> for one immutable segment, built from its
/// postings on first use and cached while the segment is open (they are derived data: nothing is written, so
/// segment files and the manifest are unchanged and an index reopened later rebuilds the same structures):
/// <list type="bullet">
/// <item>a forward index: each document's terms ascending (16-bit ids) and float weights;</item>
/// <item>per term, its <see cref="SeismicOptions.PostingsPerTerm"/> largest postings cut into blocks;</item>
/// <item>per block, a summary: the block's per-term maxima, pruned to an α share of their mass and at most
/// <see cref="SeismicOptions.SummaryTerms"/> terms, quantized upward to a byte of the block's largest maximum.</item>
/// </list>
/// </summary>
internal sealed class SeismicSegmentIndex
{
    private static readonly ConditionalWeakTable<Segment, Dictionary<(int, int, float, int, SeismicBlocking), SeismicSegmentIndex>> Cache = new();

    public int Dimension { get; private init; }
    public int DocCount { get; private init; }
    public int[] FwdStart { get; private init; } = [];        // [DocCount + 1]
    public ushort[] FwdTerms { get; private init; } = [];     // [postings] ascending per document
    public float[] FwdValues { get; private init; } = [];     // [postings]
    public int[] TermBlockStart { get; private init; } = [];  // [Dimension + 1] first block of each term
    public int[] BlockDocStart { get; private init; } = [];   // [blocks + 1] into ListDocs
    public int[] ListDocs { get; private init; } = [];        // [kept postings] document ordinals
    public int[] SumStart { get; private init; } = [];        // [blocks + 1] into SumTerms / SumValues
    public ushort[] SumTerms { get; private init; } = [];     // [summary entries]
    public byte[] SumValues { get; private init; } = [];      // [summary entries] ⌈255 · max / blockMax⌉
    public float[] SumScale { get; private init; } = [];      // [blocks] blockMax / 255

    public int BlockCount => SumScale.Length;

    /// <summary>Bytes held by the structures.</summary>
    public long Bytes => 4L * FwdStart.Length + 6L * FwdTerms.Length + 4L * TermBlockStart.Length + 4L * BlockDocStart.Length
        + 4L * ListDocs.Length + 4L * SumStart.Length + 3L * SumTerms.Length + 4L * SumScale.Length;

    /// <summary>The structures of <paramref name="segment"/> for these options, built once per segment and option set.</summary>
    public static SeismicSegmentIndex For(Segment segment, SeismicOptions options)
    {
        var byKey = Cache.GetValue(segment, _ => new());
        lock (byKey)
        {
            if (!byKey.TryGetValue(options.BuildKey, out var built)) byKey[options.BuildKey] = built = Build(segment, options);
            return built;
        }
    }

    /// <summary>Builds the structures (exposed for measurements of the build time).</summary>
    public static SeismicSegmentIndex Build(Segment seg, SeismicOptions options)
    {
        if (seg.Dimension > ushort.MaxValue + 1) throw new NotSupportedException($"Seismic structures store 16-bit term ids; the dimension is {seg.Dimension}.");
        int dim = seg.Dimension, n = seg.DocCount;
        ReadOnlySpan<long> offsets = seg.TermOffsets;

        // Forward index: counts, prefix sums, then a fill in ascending term order (so each document's terms ascend).
        var fwdStart = new int[n + 1];
        foreach (int d in seg.AllPostDocs) fwdStart[d + 1]++;
        for (int d = 0; d < n; d++) fwdStart[d + 1] += fwdStart[d];
        var fwdTerms = new ushort[seg.PostingCount];
        var fwdValues = new float[seg.PostingCount];
        {
            var fill = (int[])fwdStart.Clone();
            ReadOnlySpan<int> docs = seg.AllPostDocs;
            ReadOnlySpan<float> values = seg.AllPostValues;
            for (int t = 0; t < dim; t++)
                for (long p = offsets[t]; p < offsets[t + 1]; p++)
                {
                    int at = fill[docs[(int)p]]++;
                    fwdTerms[at] = (ushort)t;
                    fwdValues[at] = values[(int)p];
                }
        }

        // Truncated lists and their blocks.
        int lambda = options.PostingsPerTerm, size = options.BlockSize;
        var listStart = new long[dim + 1];
        var termBlockStart = new int[dim + 1];
        for (int t = 0; t < dim; t++)
        {
            long kept = Math.Min(offsets[t + 1] - offsets[t], lambda);
            listStart[t + 1] = listStart[t] + kept;
            termBlockStart[t + 1] = checked(termBlockStart[t] + (int)((kept + size - 1) / size));
        }
        int blocks = termBlockStart[dim];
        var listDocs = new int[listStart[dim]];
        var blockDocStart = new int[blocks + 1];
        for (int t = 0; t < dim; t++)
            for (int b = termBlockStart[t]; b < termBlockStart[t + 1]; b++)
                blockDocStart[b + 1] = (int)Math.Min(listStart[t] + (long)(b - termBlockStart[t] + 1) * size, listStart[t + 1]);

        var sumCount = new int[blocks];
        var sumScale = new float[blocks];
        var perTermTerms = new ushort[dim][];
        var perTermValues = new byte[dim][];
        Parallel.For(0, dim, () => new Scratch(dim), (t, _, scratch) =>
        {
            ReadOnlySpan<long> termOffsets = seg.TermOffsets;
            int df = (int)(termOffsets[t + 1] - termOffsets[t]);
            if (df == 0) return scratch;
            var docs = seg.AllPostDocs.Slice((int)termOffsets[t], df);
            var values = seg.AllPostValues.Slice((int)termOffsets[t], df);
            var kept = listDocs.AsSpan((int)listStart[t], (int)(listStart[t + 1] - listStart[t]));
            SelectTop(docs, values, kept, options.Blocking, scratch);
            var terms = new List<ushort>();
            var bytes = new List<byte>();
            for (int b = termBlockStart[t]; b < termBlockStart[t + 1]; b++)
            {
                int count = Summarize(listDocs.AsSpan(blockDocStart[b], blockDocStart[b + 1] - blockDocStart[b]), fwdStart, fwdTerms, fwdValues,
                    options.SummaryMass, options.SummaryTerms, scratch, terms, bytes, out sumScale[b]);
                sumCount[b] = count;
            }
            perTermTerms[t] = terms.ToArray();
            perTermValues[t] = bytes.ToArray();
            return scratch;
        }, _ => { });

        var sumStart = new int[blocks + 1];
        for (int b = 0; b < blocks; b++) sumStart[b + 1] = checked(sumStart[b] + sumCount[b]);
        var sumTerms = new ushort[sumStart[blocks]];
        var sumValues = new byte[sumStart[blocks]];
        for (int t = 0; t < dim; t++)
        {
            if (perTermTerms[t] is not { Length: > 0 } tt) continue;
            int at = sumStart[termBlockStart[t]];
            tt.CopyTo(sumTerms, at);
            perTermValues[t].CopyTo(sumValues, at);
        }
        return new SeismicSegmentIndex
        {
            Dimension = dim, DocCount = n, FwdStart = fwdStart, FwdTerms = fwdTerms, FwdValues = fwdValues,
            TermBlockStart = termBlockStart, BlockDocStart = blockDocStart, ListDocs = listDocs,
            SumStart = sumStart, SumTerms = sumTerms, SumValues = sumValues, SumScale = sumScale,
        };
    }

    private sealed class Scratch(int dim)
    {
        public readonly float[] Max = new float[dim];     // [dim] per-term maxima of one block, 0 when absent
        public readonly List<int> Touched = new();
        public readonly double[] Mass = new double[256];  // per quantized value
        public readonly int[] Count = new int[256];
        public (float Value, int Doc)[] Pairs = [];
        public float[] Values = [];
    }

    /// <summary>Writes the <c>kept.Length</c> largest postings (ties: smaller ordinal first) into <paramref name="kept"/>, in block order.</summary>
    private static void SelectTop(ReadOnlySpan<int> docs, ReadOnlySpan<float> values, Span<int> kept, SeismicBlocking blocking, Scratch s)
    {
        int df = docs.Length, m = kept.Length;
        if (s.Pairs.Length < m) s.Pairs = new (float, int)[Math.Max(m, 2 * s.Pairs.Length)];
        var top = s.Pairs.AsSpan(0, m);
        if (m == df)
        {
            for (int i = 0; i < df; i++) top[i] = (values[i], docs[i]);
        }
        else
        {
            // The m-th largest weight by selection (linear time), then every posting above it and, in ordinal
            // order, the ones equal to it until m are taken.
            if (s.Values.Length < df) s.Values = new float[Math.Max(df, 2 * s.Values.Length)];
            var copy = s.Values.AsSpan(0, df);
            values.CopyTo(copy);
            float threshold = NthLargest(copy, m - 1);
            int at = 0, equalQuota = m;
            for (int i = 0; i < df; i++) if (values[i] > threshold) equalQuota--;
            for (int i = 0; i < df && at < m; i++)
            {
                float v = values[i];
                if (v > threshold || (v == threshold && equalQuota-- > 0)) top[at++] = (v, docs[i]);
            }
        }
        if (blocking == SeismicBlocking.Impact)
            top.Sort(static (a, b) => { int c = b.Item1.CompareTo(a.Item1); return c != 0 ? c : a.Item2.CompareTo(b.Item2); });
        for (int i = 0; i < m; i++) kept[i] = top[i].Item2;   // document order already when not sorted by impact
    }

    /// <summary>The value of rank <paramref name="rank"/> (0 = largest) of <paramref name="a"/>, which it reorders (quickselect).</summary>
    private static float NthLargest(Span<float> a, int rank)
    {
        int lo = 0, hi = a.Length - 1;
        var rng = new Random(a.Length);
        while (lo < hi)
        {
            float pivot = a[rng.Next(lo, hi + 1)];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] > pivot) i++;
                while (a[j] < pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (rank <= j) hi = j;
            else if (rank >= i) lo = i;
            else return a[rank];
        }
        return a[rank];
    }

    /// <summary>Appends one block's summary to <paramref name="terms"/>/<paramref name="bytes"/>; returns its entry count.</summary>
    private static int Summarize(ReadOnlySpan<int> blockDocs, int[] fwdStart, ushort[] fwdTerms, float[] fwdValues, float mass, int maxTerms,
        Scratch s, List<ushort> terms, List<byte> bytes, out float scale)
    {
        var max = s.Max;
        var touched = s.Touched;
        touched.Clear();
        float blockMax = 0f;
        foreach (int d in blockDocs)
            for (int j = fwdStart[d]; j < fwdStart[d + 1]; j++)
            {
                int t = fwdTerms[j];
                float v = fwdValues[j];
                if (max[t] == 0f) { if (v <= 0f) continue; touched.Add(t); }
                if (v > max[t]) max[t] = v;
                if (v > blockMax) blockMax = v;
            }
        scale = blockMax / 255f;
        if (touched.Count == 0) return 0;
        // Quantize upward (a summary entry never falls below the maximum it stands for), then pick the cut-off byte:
        // entries at or above it hold the α share of the mass, and at most maxTerms of them are kept.
        Array.Clear(s.Mass);
        Array.Clear(s.Count);
        double total = 0;
        foreach (int t in touched)
        {
            int q = Quantize(max[t], blockMax);
            s.Mass[q] += max[t];
            s.Count[q]++;
            total += max[t];
        }
        int cut = 255, count = 0;
        double held = 0;
        for (; cut > 0; cut--)
        {
            held += s.Mass[cut];
            count += s.Count[cut];
            if (held >= mass * total || count >= maxTerms) break;
        }
        int quota = maxTerms - (count - s.Count[cut]);   // entries allowed from the cut-off byte itself
        int added = 0;
        foreach (int t in touched)
        {
            int q = Quantize(max[t], blockMax);
            max[t] = 0f;
            if (q < cut || (q == cut && quota-- <= 0)) continue;
            terms.Add((ushort)t);
            bytes.Add((byte)q);
            added++;
        }
        return added;
    }

    private static int Quantize(float value, float blockMax) => Math.Clamp((int)MathF.Ceiling(255f * value / blockMax), 1, 255);
}
