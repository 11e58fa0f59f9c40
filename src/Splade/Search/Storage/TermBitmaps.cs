using System.Numerics;

namespace Splade.Search.Storage;

/// <summary>
/// A segment's frequent terms in bitmap form (<see cref="TermBitmap"/>). A term qualifies when at
/// least one document in <see cref="DensityDivisor"/> holds it; its bitmap (DocCount / 8 bytes, at
/// most half the size of its 4-byte ordinals) and 8-bit levels are built from the posting list the
/// first time a query needs them and kept for the segment's lifetime. Derived data: nothing is
/// written to disk.
/// </summary>
internal sealed class TermBitmaps
{
    /// <summary>
    /// A term gets a bitmap when its document frequency is at least DocCount / DensityDivisor. The
    /// bitmap scan costs about the same per sixteen documents whatever the density (~1.45 ns), the
    /// scatter through ordinals ~2 ns per posting in place; measured at 1M synthetic documents
    /// (MaxScore p50): divisors 12, 16, 24, 32 gave 1.73, 1.68, 1.79, 1.88 ms.
    /// </summary>
    public const int DensityDivisor = 16;

    /// <summary>Segments smaller than this keep plain posting lists (the bitmap would not pay for itself).</summary>
    public const int MinDocs = 4096;

    private readonly Segment _segment;
    private readonly TermBitmap?[] _maps;   // [Dimension], filled on demand

    public TermBitmaps(Segment segment)
    {
        _segment = segment;
        _maps = new TermBitmap?[segment.Dimension];
    }

    /// <summary>Whether a posting list of this length is read as a bitmap.</summary>
    public bool IsDense(int postings) => _segment.DocCount >= MinDocs && (long)postings * DensityDivisor >= _segment.DocCount;

    /// <summary>The bitmap of <paramref name="term"/>, building it on first use; safe to call from several threads.</summary>
    public TermBitmap Get(int term)
    {
        TermBitmap? map = Volatile.Read(ref _maps[term]);
        if (map is not null) return map;
        var docs = _segment.Postings(term, out var values);
        map = new TermBitmap(docs, values, _segment.DocCount);
        return Interlocked.CompareExchange(ref _maps[term], map, null) ?? map;
    }
}

/// <summary>
/// One term's posting list as a bitmap (bit d set ⇔ the list holds document d, so the i-th set bit
/// owns the i-th value), a rank directory, and each value rounded up to a multiple of
/// <see cref="Step"/> = max value / 255 and stored as that multiple (one byte): level·Step lies in
/// [v, v + Step) for every non-negative value v.
/// </summary>
internal sealed class TermBitmap
{
    /// <summary>Largest level.</summary>
    public const int MaxLevel = 255;

    /// <summary>Builds the bitmap of ascending ordinals <paramref name="docs"/> in [0, docCount) with non-negative values.</summary>
    public TermBitmap(ReadOnlySpan<int> docs, ReadOnlySpan<float> values, int docCount)
    {
        if (values.Length != docs.Length) throw new ArgumentException($"{values.Length} values for {docs.Length} documents.", nameof(values));
        // One spare word, so that readers may run one word past the last document.
        Bits = new ulong[(docCount + 63) / 64 + 1];
        foreach (int d in docs) Bits[d >> 6] |= 1UL << (d & 63);
        Rank512 = new int[(Bits.Length + 7) / 8 + 1];
        int count = 0;
        for (int w = 0; w < Bits.Length; w++)
        {
            if ((w & 7) == 0) Rank512[w >> 3] = count;
            count += BitOperations.PopCount(Bits[w]);
        }
        Rank512[^1] = count;

        float max = 0f;
        foreach (float v in values)
        {
            if (!(v >= 0f) || float.IsInfinity(v)) throw new ArgumentException($"Value {v} is not a finite non-negative number.", nameof(values));
            max = Math.Max(max, v);
        }
        Step = max / MaxLevel;
        if (Step * MaxLevel < max) Step = MathF.BitIncrement(Step);   // the top level must reach the largest value
        // Sixteen spare bytes: the vector form loads sixteen levels from any position.
        Levels = new byte[values.Length + 16];
        for (int i = 0; i < values.Length; i++)
        {
            if (Step == 0f) break;
            // Smallest level whose float product with Step is at least the value (the double quotient may be one off).
            int level = (int)Math.Min(MaxLevel, Math.Ceiling(values[i] / (double)Step));
            while (level < MaxLevel && level * Step < values[i]) level++;
            while (level > 0 && (level - 1) * Step >= values[i]) level--;
            Levels[i] = (byte)level;
        }
    }

    /// <summary>Bit d set ⇔ the term's list holds document d: [⌈DocCount / 64⌉ + 1].</summary>
    public ulong[] Bits { get; }

    /// <summary>Set bits before word 8·i: [⌈words / 8⌉ + 1].</summary>
    public int[] Rank512 { get; }

    /// <summary>Value quantum: max value / 255.</summary>
    public float Step { get; }

    /// <summary>Per posting, the smallest level with level·Step ≥ value (in float): [postings + 16].</summary>
    public byte[] Levels { get; }

    /// <summary>Whether document <paramref name="doc"/> is in the list.</summary>
    public bool Contains(int doc) => (Bits[doc >> 6] & (1UL << (doc & 63))) != 0;

    /// <summary>Number of listed documents below <paramref name="doc"/>: the position of its value when it is listed.</summary>
    public int Rank(int doc)
    {
        int word = doc >> 6;
        int rank = Rank512[word >> 3];
        for (int w = word & ~7; w < word; w++) rank += BitOperations.PopCount(Bits[w]);
        return rank + BitOperations.PopCount(Bits[word] & ((1UL << (doc & 63)) - 1));
    }

    /// <summary>Plain twin used by tests: the ordinals the bitmap encodes, ascending.</summary>
    public List<int> Decode()
    {
        var docs = new List<int>();
        for (int w = 0; w < Bits.Length; w++)
            for (ulong bits = Bits[w]; bits != 0; bits &= bits - 1)
                docs.Add(w * 64 + BitOperations.TrailingZeroCount(bits));
        return docs;
    }
}
