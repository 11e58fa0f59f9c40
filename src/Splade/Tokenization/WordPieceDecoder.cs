using System.Text;

namespace Splade.Tokenization;

/// <summary>
/// Hugging Face <c>decoders.WordPiece</c>: the first token as is; later tokens lose the "##" prefix
/// or get a leading space; with <c>cleanup</c>, each token string then goes through the
/// tokenization-space cleanup (" ." to ".", " n't" to "n't", ...), token by token as the reference does.
/// </summary>
internal sealed class WordPieceDecoder
{
    public WordPieceDecoder(string prefix, bool cleanup, bool joinWithSpaces = false)
    {
        Prefix = prefix;
        Cleanup = cleanup;
        JoinWithSpaces = joinWithSpaces;
    }

    public string Prefix { get; }
    public bool Cleanup { get; }

    /// <summary>No decoder in the tokenizer.json: tokens are joined with single spaces.</summary>
    public bool JoinWithSpaces { get; }

    public string Decode(IReadOnlyList<string> tokens)
    {
        if (JoinWithSpaces) return string.Join(' ', tokens);
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (i != 0)
            {
                if (Prefix.Length > 0 && token.StartsWith(Prefix, StringComparison.Ordinal)) token = token[Prefix.Length..];
                else token = " " + token;
            }
            if (Cleanup) token = CleanupSpaces(token);
            sb.Append(token);
        }
        return sb.ToString();
    }

    /// <summary>
    /// transformers' <c>clean_up_tokenization</c>, applied to the whole decoded string when
    /// tokenizer_config.json sets <c>clean_up_tokenization_spaces</c>.
    /// </summary>
    internal static string CleanUpTokenization(string s)
        => s.Replace(" .", ".")
            .Replace(" ?", "?")
            .Replace(" !", "!")
            .Replace(" ,", ",")
            .Replace(" ' ", "'")
            .Replace(" n't", "n't")
            .Replace(" 'm", "'m")
            .Replace(" 's", "'s")
            .Replace(" 've", "'ve")
            .Replace(" 're", "'re");

    /// <summary>The reference <c>cleanup</c>: a fixed list of replacements, in this order.</summary>
    internal static string CleanupSpaces(string s)
        => s.Replace(" .", ".")
            .Replace(" ?", "?")
            .Replace(" !", "!")
            .Replace(" ,", ",")
            .Replace(" ' ", "'")
            .Replace(" n't", "n't")
            .Replace(" 'm", "'m")
            .Replace(" do not", " don't")
            .Replace(" 's", "'s")
            .Replace(" 've", "'ve")
            .Replace(" 're", "'re");
}
