using System.Buffers;
using System.Text;

namespace Splade.Tokenization;

/// <summary>
/// Hugging Face <c>BertNormalizer</c>: clean_text, handle_chinese_chars, strip_accents, lowercase,
/// applied in that order. Every step maps one code point to zero or more code points, so the steps
/// are fused into one pass per code point.
/// </summary>
/// <remarks>
/// Differences that cannot occur on valid UTF-8 input (what the reference accepts): a lone surrogate
/// is read as U+FFFD, which clean_text removes. Canonical reordering of combining marks during NFD
/// is not performed; it only matters for spacing marks with a non-zero combining class, since all
/// non-spacing marks are dropped right after.
/// </remarks>
internal sealed class BertNormalizer
{
    public BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase)
    {
        CleanText = cleanText;
        HandleChineseChars = handleChineseChars;
        StripAccents = stripAccents;
        Lowercase = lowercase;
    }

    public bool CleanText { get; }
    public bool HandleChineseChars { get; }
    public bool StripAccents { get; }
    public bool Lowercase { get; }

    /// <summary>Normalizes <paramref name="text"/>[start, end) and appends the result to <paramref name="output"/>.</summary>
    public void Normalize(string text, int start, int end, NormalizedText output)
    {
        Span<int> stripped = stackalloc int[8];
        Span<int> lowered = stackalloc int[4];
        int i = start;
        while (i < end)
        {
            int cpStart = i;
            char c = text[i];
            int cp;
            // ASCII fast path: the common case for English text.
            if (c < 128)
            {
                i++;
                var cls = BertCharTables.GetClass(c);
                if (CleanText)
                {
                    if (cls == BertCharClass.Control || c == 0) continue;
                    if (cls == BertCharClass.Whitespace) c = ' ';
                }
                if (Lowercase && (uint)(c - 'A') <= 'Z' - 'A') c = (char)(c + 32);
                output.Append(c, cpStart, i);
                continue;
            }
            if (Rune.DecodeFromUtf16(text.AsSpan(i, end - i), out Rune rune, out int consumed) == OperationStatus.Done)
                cp = rune.Value;
            else
                cp = 0xFFFD; // lone surrogate
            i += Math.Max(1, consumed);

            if (CleanText)
            {
                var cls = BertCharTables.GetClass(cp);
                if (cp == 0xFFFD || cls == BertCharClass.Control) continue;
                if (cls == BertCharClass.Whitespace) cp = ' ';
            }
            bool chinese = HandleChineseChars && BertCharTables.IsChineseChar(cp);
            if (chinese) output.Append(' ', cpStart, i);

            int n;
            if (StripAccents) n = BertCharTables.StripAccents(cp, stripped);
            else { stripped[0] = cp; n = 1; }
            for (int k = 0; k < n; k++)
            {
                if (Lowercase)
                {
                    int m = BertCharTables.ToLower(stripped[k], lowered);
                    for (int j = 0; j < m; j++) output.Append(lowered[j], cpStart, i);
                }
                else output.Append(stripped[k], cpStart, i);
            }

            if (chinese) output.Append(' ', cpStart, i);
        }
    }
}
