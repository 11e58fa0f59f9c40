using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Splade.Search;
using Splade.Server.Http;
using Splade.Sparse;

namespace Splade.Server.Endpoints;

/// <summary>
/// <c>POST /search</c>: <c>{"query": "text" (or "inputs": "text" | [...]), "top_k": 10}</c> → hits
/// <c>[{"id", "score", "text"}]</c> by score descending (a list of such lists for a list of queries).
/// Queries are encoded with the query prompt and route unless <c>role</c> says otherwise. Without a
/// loaded index the route answers 424 (error_type Backend). With <c>"explain": K</c> every hit with a
/// stored text also gets <c>"explain": [{"token", "weight"}]</c>: the K tokens contributing most to
/// its score (query weight times document weight, the text encoded again as a document, as
/// <c>splade similarity --explain</c> does), largest first.
/// </summary>
internal static class SearchEndpoint
{
    public static async Task Handle(HttpContext context, ServingState state)
    {
        using var req = await RequestJson.ReadAsync(context).ConfigureAwait(false);
        if (state.Options.Index is not { } index)
            throw new ApiException(ErrorType.Backend, "no index is loaded: start the server with --index DIR to enable /search");
        string field = req.Field("query") is not null ? "query" : "inputs";
        var (texts, isBatch) = req.Inputs(field);
        EmbedSparseEndpoint.CheckBatchSize(texts.Length, state.Options.MaxClientBatchSize);
        int topK = req.Int("top_k", min: 1, max: 10_000) ?? 10;
        bool truncate = req.Bool("truncate", true);
        string role = InputPreparer.CheckRole(req.String("role")) ?? "query";
        string prompt = state.Inputs.ResolvePrompt(req.String("prompt_name"), role);
        int? explain = req.Int("explain", min: 1, max: 1000);

        var vectors = await EmbedSparseEndpoint.EncodeAsync(context, state, texts, prompt, InputPreparer.RouteOf(role),
            truncate, TruncationDirection.Right).ConfigureAwait(false);
        var hits = new IReadOnlyList<SearchHit>[vectors.Length];
        lock (state.IndexLock)
        {
            for (int i = 0; i < vectors.Length; i++) hits[i] = index.Search(vectors[i], topK, context.RequestAborted);
        }

        var explanations = explain is int k
            ? await ExplainAsync(context, state, vectors, hits, k).ConfigureAwait(false)
            : null;
        Func<int, string> idToToken = state.Encoder.Tokenizer.IdToToken;
        await JsonOutput.WriteAsync(context, w =>
        {
            if (isBatch) w.WriteStartArray();
            for (int i = 0; i < hits.Length; i++) WriteHits(w, hits[i], explanations?[i], idToToken);
            if (isBatch) w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>Most hits one request may ask to explain (each is encoded again).</summary>
    private const int MaxExplainedHits = 1000;

    /// <summary>
    /// Per query, per hit: the top <paramref name="k"/> (token id, contribution) pairs of the hit's
    /// text encoded as a document; null for a hit without stored text.
    /// </summary>
    private static async Task<(int Id, float Weight)[]?[][]> ExplainAsync(HttpContext context, ServingState state,
        SparseVector[] queries, IReadOnlyList<SearchHit>[] hits, int k)
    {
        var texts = new List<string>();
        foreach (var list in hits)
            foreach (var h in list)
                if (h.Text is { Length: > 0 } t) texts.Add(t);
        if (texts.Count > MaxExplainedHits)
            throw new ApiException(ErrorType.Validation, $"`explain` needs {texts.Count} hits encoded again; at most {MaxExplainedHits} are allowed (lower top_k)");
        string prompt = state.Inputs.ResolvePrompt(null, "document");
        var docs = texts.Count == 0 ? [] : await EmbedSparseEndpoint.EncodeAsync(context, state, texts.ToArray(), prompt, "document",
            truncate: true, TruncationDirection.Right).ConfigureAwait(false);
        var result = new (int, float)[]?[hits.Length][];
        int next = 0;
        for (int q = 0; q < hits.Length; q++)
        {
            result[q] = new (int, float)[]?[hits[q].Count];
            for (int i = 0; i < hits[q].Count; i++)
            {
                if (hits[q][i].Text is not { Length: > 0 }) continue;
                var product = SparseSimilarity.Intersection(queries[q], docs[next++]);
                result[q][i] = Enumerable.Range(0, product.Count)
                    .OrderByDescending(p => product.Values[p]).ThenBy(p => product.Indices[p])
                    .Take(k).Select(p => (product.Indices[p], product.Values[p])).ToArray();
            }
        }
        return result;
    }

    private static void WriteHits(Utf8JsonWriter w, IReadOnlyList<SearchHit> hits, (int Id, float Weight)[]?[]? explanations, Func<int, string> idToToken)
    {
        w.WriteStartArray();
        for (int i = 0; i < hits.Count; i++)
        {
            var h = hits[i];
            w.WriteStartObject();
            w.WriteString("id", h.Id);
            w.WriteNumber("score", h.Score);
            if (h.Text is null) w.WriteNull("text");
            else w.WriteString("text", h.Text);
            if (explanations is not null)
            {
                if (explanations[i] is not { } tokens) w.WriteNull("explain");
                else
                {
                    w.WriteStartArray("explain");
                    foreach (var (id, weight) in tokens)
                    {
                        w.WriteStartObject();
                        w.WriteString("token", idToToken(id));
                        w.WriteNumber("weight", weight);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
