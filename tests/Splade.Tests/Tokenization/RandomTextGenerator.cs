using System.Text;

namespace Splade.Tests.Tokenization;

/// <summary>
/// Seeded generator of awkward texts for parity tests: many scripts, accents composed and decomposed,
/// CJK (with extension B), Hangul, emoji sequences, symbols, controls, zero-width and every kind of
/// Unicode whitespace, over-long words and literal special tokens. Never emits a lone surrogate.
/// </summary>
internal static class RandomTextGenerator
{
    private static readonly string[] Words =
    [
        "the", "running", "unbelievable", "tokenization", "SPLADE", "Hello", "WORLD", "don't", "it's", "e-mail",
        "U.S.A.", "x86_64", "3.14159", "1,000,000", "#hashtag", "@user", "C++", "naïve", "café", "Straße",
        "İstanbul", "ΣΊΣΥΦΟΣ", "ὀδυσσεύς", "Москва", "Ёлка", "مرحبا", "שָׁלוֹם", "नमस्ते", "ภาษาไทย", "한국어",
        "日本語", "中文字符", "𠀀𠀁", "ﬁnance", "Å", "ǅ", "ß", "ﬀ", "Ⅻ", "①", "℃", "™", "€100", "¥", "₹", "£5",
        "½", "x²", "µ", "Ω", "K", "ǰ", "ẞ", "ᾼ", "ﾊﾝｶｸ", "ＦＵＬＬ", "～", "…", "—", "«quote»", "“smart”", "¿qué?", "¡sí!",
        "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[MASK][MASK]", "a[SEP]b", "[", "]", "##ing", "##",
        "http://example.com/a?b=c&d=e", "user@example.org", "<html>", "{json:1}", "a/b\\c", "😀", "👍🏽", "👨‍👩‍👧‍👦",
        "🏳️‍🌈", "❤️", "🇫🇷", "🥰", "🫠", "∑∫√", "←→", "♠♣", "✓", "⌘", "゙", "ー", "ｶﾞ", "ㄱ", "가", "각",
        "\u00AD", "\u200B", "\u200C", "\u200D", "\uFEFF", "\u2060", "\u0300", "\u0301\u0302", "e\u0301", "A\u030A",
        "\u0007", "\u001B", "\u007F", "\u0000", "\uFFFD", "\uE000", "\U000F0000", "\u0378", "\U0001F8FF", "\u2028",
        "\u061C", "\u202E", "\u0600", "\u08E2", "\u2E5D", "\uA7CB", "\u1B7D", "\U00011F43",
    ];

    private static readonly string[] Spaces =
    [
        " ", " ", " ", "  ", "\t", "\n", "\r\n", "\u000B", "\u000C", "\u0085", "\u00A0", "\u1680", "\u2000", "\u2003",
        "\u2009", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000", "\u001C", "\u001F", "\u180E",
    ];

    private static readonly (int Lo, int Hi)[] Blocks =
    [
        (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF),
        (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1FFF), (0x2000, 0x2BFF), (0x2E00, 0x2E7F),
        (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xA7FF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF),
        (0xFB00, 0xFFFD), (0x10000, 0x1FFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2FA1F), (0x30000, 0x3134F), (0xE0000, 0xE01EF),
    ];

    public static IEnumerable<string> Generate(int seed, int count)
    {
        var rng = new Random(seed);
        yield return "";
        yield return " ";
        yield return "\t\n\r\u3000\u00A0 ";
        for (int n = 0; n < count; n++)
        {
            var sb = new StringBuilder();
            int parts = rng.Next(0, 25);
            for (int p = 0; p < parts; p++)
            {
                switch (rng.Next(10))
                {
                    case 0: case 1: case 2: sb.Append(Words[rng.Next(Words.Length)]); break;
                    case 3: sb.Append(Spaces[rng.Next(Spaces.Length)]); break;
                    case 4: AppendRandomCodePoints(sb, rng, rng.Next(1, 6)); break;
                    case 5: sb.Append(new string((char)rng.Next('a', 'z' + 1), rng.Next(95, 106))); break; // around the 100-char rule
                    case 6: sb.Append(Words[rng.Next(Words.Length)].ToUpperInvariant()); break;
                    case 7: sb.Append(string.Concat(Enumerable.Repeat("é", rng.Next(98, 103)))); break;
                    default: sb.Append(' ').Append(Words[rng.Next(Words.Length)]).Append(Words[rng.Next(Words.Length)]); break;
                }
            }
            yield return sb.ToString();
        }
    }

    private static void AppendRandomCodePoints(StringBuilder sb, Random rng, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var (lo, hi) = Blocks[rng.Next(Blocks.Length)];
            int cp = rng.Next(lo, hi + 1);
            if (cp is >= 0xD800 and <= 0xDFFF) cp = 'x';
            sb.Append(char.ConvertFromUtf32(cp));
        }
    }
}
