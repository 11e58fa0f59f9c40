namespace Splade.Tokenization;

/// <summary>
/// A normalized string with, for every UTF-16 unit, the range of the original text it came from
/// (the alignments of Hugging Face <c>NormalizedString</c>, in UTF-16 units rather than bytes).
/// A reusable buffer: one instance per thread, never shared.
/// </summary>
internal sealed class NormalizedText
{
    /// <summary>Normalized UTF-16 text, [Length].</summary>
    public char[] Chars = new char[256];

    /// <summary>Original start offset of each normalized unit, [Length].</summary>
    public int[] Starts = new int[256];

    /// <summary>Original end offset (exclusive) of each normalized unit, [Length].</summary>
    public int[] Ends = new int[256];

    public int Length;

    public void Clear() => Length = 0;

    public ReadOnlySpan<char> Span(int start, int end) => Chars.AsSpan(start, end - start);

    /// <summary>Appends one code point that came from original range [start, end).</summary>
    public void Append(int codePoint, int start, int end)
    {
        if (Length + 2 > Chars.Length) Grow();
        if (codePoint < 0x10000)
        {
            Chars[Length] = (char)codePoint;
            Starts[Length] = start;
            Ends[Length] = end;
            Length++;
        }
        else
        {
            int v = codePoint - 0x10000;
            Chars[Length] = (char)(0xD800 + (v >> 10));
            Chars[Length + 1] = (char)(0xDC00 + (v & 0x3FF));
            Starts[Length] = Starts[Length + 1] = start;
            Ends[Length] = Ends[Length + 1] = end;
            Length += 2;
        }
    }

    private void Grow()
    {
        int size = Chars.Length * 2;
        Array.Resize(ref Chars, size);
        Array.Resize(ref Starts, size);
        Array.Resize(ref Ends, size);
    }
}
