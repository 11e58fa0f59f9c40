namespace Splade.Tokenization;

/// <summary>
/// Character lookups used by <see cref="BertNormalizer"/> and <see cref="BertPreTokenizer"/>:
/// class of a code point, Rust <c>char::to_lowercase</c>, and NFD followed by removal of
/// non-spacing marks (Mn). The data (generated file) was recorded from the reference library, not
/// from the Unicode tables of the running .NET, whose version differs.
/// </summary>
internal static partial class BertCharTables
{
    // ASCII fast path: class of U+0000..U+007F.
    private static readonly BertCharClass[] AsciiClass = BuildAscii();

    private static BertCharClass[] BuildAscii()
    {
        var table = new BertCharClass[128];
        for (int c = 0; c < 128; c++) table[c] = LookupClass(c);
        return table;
    }

    /// <summary>Class of a Unicode scalar value.</summary>
    public static BertCharClass GetClass(int codePoint)
        => (uint)codePoint < 128 ? AsciiClass[codePoint] : LookupClass(codePoint);

    private static BertCharClass LookupClass(int codePoint)
    {
        ReadOnlySpan<int> starts = ClassRunStarts;
        int i = starts.BinarySearch(codePoint);
        if (i < 0) i = ~i - 1; // index of the run that contains codePoint
        return (BertCharClass)ClassRunKinds[i];
    }

    /// <summary>
    /// The CJK ranges of <c>BertNormalizer::is_chinese_char</c>: 4E00–9FFF, 3400–4DBF, 20000–2A6DF,
    /// 2A700–2B73F, 2B740–2B81F, 2B920–2CEAF, F900–FAFF, 2F800–2FA1F.
    /// </summary>
    public static bool IsChineseChar(int cp)
        => cp >= 0x3400 && (
            (cp >= 0x4E00 && cp <= 0x9FFF) ||
            (cp <= 0x4DBF) ||
            (cp >= 0x20000 && cp <= 0x2A6DF) ||
            (cp >= 0x2A700 && cp <= 0x2B73F) ||
            (cp >= 0x2B740 && cp <= 0x2B81F) ||
            (cp >= 0x2B920 && cp <= 0x2CEAF) ||
            (cp >= 0xF900 && cp <= 0xFAFF) ||
            (cp >= 0x2F800 && cp <= 0x2FA1F));

    /// <summary>
    /// Rust <c>char::to_lowercase</c> of one code point (full mapping, no context: 'Σ' is always 'σ',
    /// 'İ' becomes "i\u0307"). Writes 1 or 2 code points to <paramref name="dest"/>; returns the count.
    /// </summary>
    public static int ToLower(int cp, Span<int> dest)
    {
        if (cp < 128)
        {
            dest[0] = (uint)(cp - 'A') <= 'Z' - 'A' ? cp + 32 : cp;
            return 1;
        }
        return Lookup(cp, LowercaseKeys, LowercaseStarts, LowercaseTargets, dest);
    }

    /// <summary>
    /// Canonical decomposition (NFD) of one code point with the non-spacing marks (Mn) removed,
    /// as <c>normalized.nfd().filter(|c| !c.is_mark_nonspacing())</c> does. Writes 0 to 4 code
    /// points to <paramref name="dest"/> and returns the count.
    /// </summary>
    public static int StripAccents(int cp, Span<int> dest)
    {
        if (cp < 128) { dest[0] = cp; return 1; }
        // Hangul syllables decompose algorithmically (Unicode §3.12): L V [T] jamo, none of them Mn.
        const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, NCount = 588, TCount = 28, SCount = 11172;
        int s = cp - SBase;
        if ((uint)s < SCount)
        {
            dest[0] = LBase + s / NCount;
            dest[1] = VBase + s % NCount / TCount;
            int t = s % TCount;
            if (t == 0) return 2;
            dest[2] = TBase + t;
            return 3;
        }
        return Lookup(cp, StripAccentsKeys, StripAccentsStarts, StripAccentsTargets, dest);
    }

    private static int Lookup(int cp, ReadOnlySpan<int> keys, ReadOnlySpan<ushort> starts, ReadOnlySpan<int> targets, Span<int> dest)
    {
        int i = keys.BinarySearch(cp);
        if (i < 0) { dest[0] = cp; return 1; }
        int from = starts[i], count = starts[i + 1] - from;
        targets.Slice(from, count).CopyTo(dest);
        return count;
    }
}
