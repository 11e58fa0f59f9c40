namespace Splade.Tokenization;

/// <summary>
/// Hugging Face <c>WordPiece</c> model: greedy longest-match-first from the left, continuation
/// pieces looked up with the "##" prefix; a word longer than <see cref="MaxInputCharsPerWord"/>
/// Unicode scalar values, or one that cannot be covered completely, becomes one unknown token.
/// </summary>
internal sealed class WordPieceModel
{
    public WordPieceModel(BertVocabulary vocabulary, string unkToken, int maxInputCharsPerWord, string source)
    {
        Vocabulary = vocabulary;
        UnkToken = unkToken;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        if (!vocabulary.TryGetId(unkToken, out int unk))
            throw new InvalidDataException($"{source}: the unknown token '{unkToken}' is not in the vocabulary.");
        UnkId = unk;
    }

    public BertVocabulary Vocabulary { get; }
    public string UnkToken { get; }
    public int UnkId { get; }
    public int MaxInputCharsPerWord { get; }

    /// <summary>
    /// Tokenizes one word, <paramref name="word"/> (UTF-16), appending (id, start, end) pieces whose
    /// start/end are offsets within the word.
    /// </summary>
    public void Tokenize(ReadOnlySpan<char> word, List<(int Id, int Start, int End)> pieces)
    {
        if (word.Length > MaxInputCharsPerWord && CountScalars(word) > MaxInputCharsPerWord)
        {
            pieces.Add((UnkId, 0, word.Length));
            return;
        }
        if (Vocabulary.TryGetId(word, out int whole))
        {
            pieces.Add((whole, 0, word.Length));
            return;
        }
        int first = pieces.Count;
        int start = 0;
        while (start < word.Length)
        {
            int end = word.Length;
            int found = -1;
            while (start < end)
            {
                var sub = word[start..end];
                if (start == 0 ? Vocabulary.TryGetId(sub, out int id) : Vocabulary.TryGetContinuationId(sub, out id))
                {
                    found = id;
                    break;
                }
                // Step back one scalar value (never split a surrogate pair).
                end -= end - start >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (found < 0)
            {
                pieces.RemoveRange(first, pieces.Count - first);
                pieces.Add((UnkId, 0, word.Length));
                return;
            }
            pieces.Add((found, start, end));
            start = end;
        }
    }

    private static int CountScalars(ReadOnlySpan<char> s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            n++;
        }
        return n;
    }
}
