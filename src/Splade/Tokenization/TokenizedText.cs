namespace Splade.Tokenization;

/// <summary>The result of encoding one text or one pair of texts.</summary>
public sealed class TokenizedText
{
    internal TokenizedText(int[] ids, int[] typeIds, (int Start, int End)[] offsets, string[] tokens)
    {
        Ids = ids;
        TypeIds = typeIds;
        Offsets = offsets;
        Tokens = tokens;
    }

    /// <summary>Token ids, special tokens included, [Length].</summary>
    public int[] Ids { get; }

    /// <summary>Token type (segment) ids: 0 for the first text, 1 for the second of a pair, [Length].</summary>
    public int[] TypeIds { get; }

    /// <summary>
    /// For each token, the range [Start, End) of the input string it came from, in UTF-16 code units
    /// (string indices, so <c>text[Start..End]</c> is the source). (0, 0) for added special tokens.
    /// For a pair, offsets of the second text index into the second text.
    /// </summary>
    public (int Start, int End)[] Offsets { get; }

    /// <summary>Token strings as in the vocabulary ("##ing", "[UNK]"), [Length].</summary>
    public string[] Tokens { get; }

    /// <summary>Number of tokens.</summary>
    public int Length => Ids.Length;
}
