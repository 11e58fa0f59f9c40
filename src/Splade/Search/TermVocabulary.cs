using System.Text.Json;

namespace Splade.Search;

/// <summary>
/// A plain word tokenizer for lexical baselines: lowercase (invariant) runs of letters and digits,
/// each mapped to an id from a vocabulary built from a corpus. Words outside the vocabulary are
/// dropped (they match no document anyway).
/// </summary>
public sealed class TermVocabulary
{
    private readonly Dictionary<string, int> _ids;

    private TermVocabulary(Dictionary<string, int> ids) => _ids = ids;

    /// <summary>Number of distinct words: the dimension of vectors over this vocabulary.</summary>
    public int Count => _ids.Count;

    /// <summary>Lowercased alphanumeric words of <paramref name="text"/>, in order.</summary>
    public static IEnumerable<string> Words(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i])) i++;
            int start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i])) i++;
            if (i > start) yield return text[start..i].ToLowerInvariant();
        }
    }

    /// <summary>Builds the vocabulary of <paramref name="texts"/>; ids follow first appearance.</summary>
    public static TermVocabulary Build(IEnumerable<string> texts)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string text in texts)
            foreach (string w in Words(text))
                ids.TryAdd(w, ids.Count);
        return new TermVocabulary(ids);
    }

    /// <summary>Ids of the known words of <paramref name="text"/>, in order (repeats kept).</summary>
    public IReadOnlyList<int> Tokenize(string text)
    {
        var ids = new List<int>();
        foreach (string w in Words(text))
            if (_ids.TryGetValue(w, out int id)) ids.Add(id);
        return ids;
    }

    /// <summary>Writes the words in id order as a JSON array.</summary>
    public void Save(string path)
    {
        var words = new string[_ids.Count];
        foreach (var (w, id) in _ids) words[id] = w;
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(words));
    }

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    public static TermVocabulary Load(string path)
    {
        string?[]? read;
        try
        {
            read = JsonSerializer.Deserialize<string?[]>(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"Vocabulary '{path}' is malformed: {e.Message}", e);
        }
        string?[] words = read ?? throw new InvalidDataException($"Vocabulary '{path}' is empty.");
        var ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++)
            if (words[i] is null) throw new InvalidDataException($"Vocabulary '{path}' has null at entry {i}.");
            else if (!ids.TryAdd(words[i]!, i)) throw new InvalidDataException($"Vocabulary '{path}' repeats the word '{words[i]}' (entry {i}).");
        return new TermVocabulary(ids);
    }
}
