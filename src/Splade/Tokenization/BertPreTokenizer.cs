using System.Text;

namespace Splade.Tokenization;

/// <summary>
/// Hugging Face <c>BertPreTokenizer</c>: split on whitespace (removed), then isolate every
/// punctuation character (ASCII punctuation or a Unicode P* character of the reference tables).
/// </summary>
internal static class BertPreTokenizer
{
    /// <summary>
    /// Rust <c>char::is_whitespace</c>. U+000B, U+000C and U+0085 are whitespace here, although
    /// clean_text removes them before this step when it is on.
    /// </summary>
    public static bool IsWhitespace(int cp)
        => BertCharTables.GetClass(cp) == BertCharClass.Whitespace || cp == 0x0B || cp == 0x0C || cp == 0x85;

    /// <summary>Appends the words of <paramref name="text"/>[start, end) as [start, end) ranges of normalized units.</summary>
    public static void Split(NormalizedText text, int start, int end, List<(int Start, int End)> words)
    {
        char[] chars = text.Chars;
        int wordStart = -1;
        int i = start;
        while (i < end)
        {
            int cp = chars[i];
            int width = 1;
            if (char.IsHighSurrogate(chars[i]) && i + 1 < end && char.IsLowSurrogate(chars[i + 1]))
            {
                cp = char.ConvertToUtf32(chars[i], chars[i + 1]);
                width = 2;
            }
            var cls = BertCharTables.GetClass(cp);
            if (cls == BertCharClass.Whitespace || (cls == BertCharClass.Control && IsWhitespace(cp)))
            {
                if (wordStart >= 0) { words.Add((wordStart, i)); wordStart = -1; }
            }
            else if (cls == BertCharClass.Punctuation)
            {
                if (wordStart >= 0) { words.Add((wordStart, i)); wordStart = -1; }
                words.Add((i, i + width));
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }
            i += width;
        }
        if (wordStart >= 0) words.Add((wordStart, end));
    }
}
