using Splade.Sparse;

namespace Splade.Connectors;

/// <summary>
/// Turns vocabulary ids into the keys of a token-keyed sparse object
/// (<c>{"token": weight, ...}</c>) as Elasticsearch <c>sparse_vector</c> and OpenSearch
/// <c>rank_features</c> store them.
/// </summary>
public sealed class TokenKeys
{
    private readonly Func<int, string> _idToToken;
    private readonly Func<string, string> _escape;

    /// <summary>Creates a key mapping from an id-to-token function and an escape rule.</summary>
    public TokenKeys(Func<int, string> idToToken, Func<string, string>? escape = null)
    {
        _idToToken = idToToken ?? throw new ArgumentNullException(nameof(idToToken));
        _escape = escape ?? (static t => t);
    }

    /// <summary>
    /// Elasticsearch's rule: a feature name may not contain <c>.</c> (the mapper reads dots as
    /// object paths; before 8.16 such documents are rejected), so each <c>.</c> becomes <c>__</c>,
    /// the same replacement Elasticsearch's own text-expansion inference applies to its vocabulary
    /// (<c>TextExpansionProcessor.buildSanitizedVocabMap</c>). Queries and documents must use the
    /// same rule, which keeps vectors written here comparable with vectors Elasticsearch computes.
    /// </summary>
    public static string EscapeDots(string token) => token.Replace(".", "__", StringComparison.Ordinal);

    /// <summary>Keys with dots escaped by <see cref="EscapeDots"/> (Elasticsearch, OpenSearch <c>rank_features</c>).</summary>
    public static TokenKeys WithEscapedDots(Func<int, string> idToToken) => new(idToToken, EscapeDots);

    /// <summary>Raw vocabulary strings as keys (for stores that accept any key, e.g. Elasticsearch 8.16+ with explicit mappings).</summary>
    public static TokenKeys Raw(Func<int, string> idToToken) => new(idToToken);

    /// <summary>The key for vocabulary id <paramref name="id"/>.</summary>
    public string Key(int id)
    {
        string token = _idToToken(id) ?? throw new ArgumentException($"No token for id {id}.");
        return _escape(token);
    }

    /// <summary>
    /// (key, weight) pairs of <paramref name="vector"/> in ascending id order. Every weight must be
    /// strictly positive (both engines reject others) and no two ids may map to the same key.
    /// </summary>
    /// <exception cref="ArgumentException">A weight is not positive, or two ids share a key.</exception>
    public IEnumerable<KeyValuePair<string, float>> Pairs(SparseVector vector, string owner)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var seen = new Dictionary<string, int>(vector.Count, StringComparer.Ordinal);
        var pairs = new List<KeyValuePair<string, float>>(vector.Count);
        for (int i = 0; i < vector.Count; i++)
        {
            int id = vector.Indices[i];
            float weight = vector.Values[i];
            if (!(weight > 0f))
                throw new ArgumentException($"{owner}: weight of token id {id} is {weight}; token-keyed sparse fields need strictly positive weights.");
            string key = Key(id);
            if (!seen.TryAdd(key, id))
                throw new ArgumentException($"{owner}: token ids {seen[key]} and {id} both map to key '{key}'.");
            pairs.Add(new(key, weight));
        }
        return pairs;
    }
}
