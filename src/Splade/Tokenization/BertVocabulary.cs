using System.Collections.Frozen;

namespace Splade.Tokenization;

/// <summary>
/// The WordPiece vocabulary: token string to id and back. Lookups take spans, so that candidate
/// pieces are never allocated; continuation pieces ("##ing") are also indexed without their prefix.
/// </summary>
internal sealed class BertVocabulary
{
    // Frozen dictionaries give the fastest lookups but take seconds to build past a few hundred
    // thousand keys, so very large vocabularies use ordinary dictionaries instead.
    private const int FrozenLimit = 1 << 18;

    private readonly IReadOnlyDictionary<string, int> _tokenToId;
    private readonly bool _frozen;
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuationLookup;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _largeLookup;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _largeContinuationLookup;
    private readonly string?[] _idToToken;

    /// <param name="tokenToId">Token to id (ids need not be dense).</param>
    /// <param name="continuingSubwordPrefix">Prefix of continuation pieces, "##" for BERT.</param>
    /// <param name="source">File the vocabulary came from, for error messages.</param>
    public BertVocabulary(IReadOnlyDictionary<string, int> tokenToId, string continuingSubwordPrefix, string source)
    {
        if (tokenToId.Count == 0) throw new InvalidDataException($"{source}: the vocabulary is empty.");
        int maxId = -1;
        foreach (var (token, id) in tokenToId)
        {
            if (id < 0) throw new InvalidDataException($"{source}: token '{token}' has a negative id {id}.");
            maxId = Math.Max(maxId, id);
        }
        if (maxId >= 16 * 1024 * 1024) throw new InvalidDataException($"{source}: token id {maxId} is implausibly large.");
        _idToToken = new string?[maxId + 1];
        foreach (var (token, id) in tokenToId) _idToToken[id] = token;

        _frozen = tokenToId.Count <= FrozenLimit;
        var plain = new Dictionary<string, int>(tokenToId, StringComparer.Ordinal);
        if (_frozen)
        {
            var frozen = plain.ToFrozenDictionary(StringComparer.Ordinal);
            _tokenToId = frozen;
            _lookup = frozen.GetAlternateLookup<ReadOnlySpan<char>>();
        }
        else
        {
            _tokenToId = plain;
            _largeLookup = plain.GetAlternateLookup<ReadOnlySpan<char>>();
        }
        var continuation = new Dictionary<string, int>(StringComparer.Ordinal);
        if (continuingSubwordPrefix.Length == 0)
        {
            foreach (var (token, id) in tokenToId) continuation[token] = id;
        }
        else
        {
            foreach (var (token, id) in tokenToId)
                if (token.StartsWith(continuingSubwordPrefix, StringComparison.Ordinal))
                    continuation[token[continuingSubwordPrefix.Length..]] = id;
        }
        if (_frozen) _continuationLookup = continuation.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        else _largeContinuationLookup = continuation.GetAlternateLookup<ReadOnlySpan<char>>();
        ContinuingSubwordPrefix = continuingSubwordPrefix;
    }

    /// <summary>Number of token entries.</summary>
    public int Count => _tokenToId.Count;

    /// <summary>One more than the largest id.</summary>
    public int IdLimit => _idToToken.Length;

    public string ContinuingSubwordPrefix { get; }

    public IReadOnlyDictionary<string, int> TokenToIdMap => _tokenToId;

    public bool TryGetId(ReadOnlySpan<char> token, out int id)
        => _frozen ? _lookup.TryGetValue(token, out id) : _largeLookup.TryGetValue(token, out id);

    /// <summary>Looks up <see cref="ContinuingSubwordPrefix"/> + <paramref name="suffix"/>.</summary>
    public bool TryGetContinuationId(ReadOnlySpan<char> suffix, out int id)
        => _frozen ? _continuationLookup.TryGetValue(suffix, out id) : _largeContinuationLookup.TryGetValue(suffix, out id);

    public string? GetToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>Reads a vocab.txt: one token per line, id = 0-based line number, trailing whitespace trimmed.</summary>
    public static Dictionary<string, int> ReadVocabFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file not found: {path}", path);
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        int id = 0;
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            // Like the Rust WordPiece::read_file: trim_end, and a later duplicate takes the line's id.
            map[line.TrimEnd()] = id;
            id++;
        }
        if (map.Count == 0) throw new InvalidDataException($"{path}: the vocabulary file is empty.");
        return map;
    }
}
