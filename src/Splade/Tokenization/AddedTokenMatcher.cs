using System.Buffers;

namespace Splade.Tokenization;

/// <summary>
/// Finds added tokens in a text the way Hugging Face <c>AddedVocabulary::find_matches</c> does:
/// non-overlapping leftmost-longest matches, then the single_word, lstrip and rstrip rules.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly AddedToken[] _tokens;     // patterns, in declaration order
    private readonly string[] _patterns;       // what is searched (content, or its normalized form)
    private readonly SearchValues<char> _firstChars;

    public AddedTokenMatcher(IReadOnlyList<AddedToken> tokens, IReadOnlyList<string> patterns)
    {
        var keep = new List<int>();
        for (int i = 0; i < tokens.Count; i++) if (patterns[i].Length > 0) keep.Add(i);
        _tokens = keep.Select(i => tokens[i]).ToArray();
        _patterns = keep.Select(i => patterns[i]).ToArray();
        _firstChars = SearchValues.Create(_patterns.Select(p => p[0]).Distinct().ToArray());
    }

    public bool IsEmpty => _tokens.Length == 0;

    /// <summary>
    /// Appends the accepted matches in <paramref name="text"/> as (token, start, end), offsets in the span.
    /// </summary>
    public void FindMatches(ReadOnlySpan<char> text, List<(AddedToken Token, int Start, int End)> matches)
    {
        if (_tokens.Length == 0) return;
        int pos = 0;
        int previousStop = 0; // "start_offset" of the reference: end of the last accepted split
        while (pos < text.Length)
        {
            int rel = text[pos..].IndexOfAny(_firstChars);
            if (rel < 0) break;
            int at = pos + rel;
            int best = -1, bestLen = 0;
            for (int k = 0; k < _patterns.Length; k++)
            {
                string p = _patterns[k];
                if (p.Length > bestLen && text[at..].StartsWith(p, StringComparison.Ordinal)) { best = k; bestLen = p.Length; }
            }
            if (best < 0) { pos = at + 1; continue; }
            int start = at, stop = at + bestLen;
            pos = stop; // the automaton resumes after the match, accepted or not
            var token = _tokens[best];
            if (token.SingleWord)
            {
                bool startSpace = start == 0 || !IsWordChar(text, start, before: true);
                bool stopSpace = stop == text.Length || !IsWordChar(text, stop, before: false);
                if (!startSpace || !stopSpace) continue;
            }
            if (token.LStrip)
            {
                int s = start;
                while (s > 0 && IsSpaceBefore(text, s, out int w)) s -= w;
                start = Math.Max(s, previousStop);
            }
            if (token.RStrip)
            {
                while (stop < text.Length && IsSpaceAt(text, stop, out int w)) stop += w;
            }
            matches.Add((token, start, stop));
            previousStop = stop;
        }
    }

    private static bool IsSpaceBefore(ReadOnlySpan<char> text, int index, out int width)
    {
        width = index >= 2 && char.IsLowSurrogate(text[index - 1]) && char.IsHighSurrogate(text[index - 2]) ? 2 : 1;
        int cp = width == 2 ? char.ConvertToUtf32(text[index - 2], text[index - 1]) : text[index - 1];
        return BertPreTokenizer.IsWhitespace(cp);
    }

    private static bool IsSpaceAt(ReadOnlySpan<char> text, int index, out int width)
    {
        width = index + 1 < text.Length && char.IsHighSurrogate(text[index]) && char.IsLowSurrogate(text[index + 1]) ? 2 : 1;
        int cp = width == 2 ? char.ConvertToUtf32(text[index], text[index + 1]) : text[index];
        return BertPreTokenizer.IsWhitespace(cp);
    }

    /// <summary>
    /// Regex <c>\w</c> (Unicode) of the character before or at <paramref name="index"/>. Approximated
    /// with the .NET categories: letters, marks, decimal digits, letter numbers, connector
    /// punctuation, ZWNJ and ZWJ.
    /// </summary>
    private static bool IsWordChar(ReadOnlySpan<char> text, int index, bool before)
    {
        int cp;
        if (before)
            cp = index >= 2 && char.IsLowSurrogate(text[index - 1]) && char.IsHighSurrogate(text[index - 2])
                ? char.ConvertToUtf32(text[index - 2], text[index - 1]) : text[index - 1];
        else
            cp = index + 1 < text.Length && char.IsHighSurrogate(text[index]) && char.IsLowSurrogate(text[index + 1])
                ? char.ConvertToUtf32(text[index], text[index + 1]) : text[index];
        if (cp == 0x200C || cp == 0x200D) return true;
        var cat = System.Globalization.CharUnicodeInfo.GetUnicodeCategory(cp);
        return cat switch
        {
            System.Globalization.UnicodeCategory.UppercaseLetter or System.Globalization.UnicodeCategory.LowercaseLetter
                or System.Globalization.UnicodeCategory.TitlecaseLetter or System.Globalization.UnicodeCategory.ModifierLetter
                or System.Globalization.UnicodeCategory.OtherLetter or System.Globalization.UnicodeCategory.NonSpacingMark
                or System.Globalization.UnicodeCategory.SpacingCombiningMark or System.Globalization.UnicodeCategory.EnclosingMark
                or System.Globalization.UnicodeCategory.DecimalDigitNumber or System.Globalization.UnicodeCategory.LetterNumber
                or System.Globalization.UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }
}
