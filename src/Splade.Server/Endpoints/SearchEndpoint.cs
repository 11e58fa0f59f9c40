using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Splade.Search;
using Splade.Server.Http;

namespace Splade.Server.Endpoints;

/// <summary>
/// <c>POST /search</c>: <c>{"query": "text" (or "inputs": "text" | [...]), "top_k": 10}</c> → hits
/// <c>[{"id", "score", "text"}]</c> by score descending (a list of such lists for a list of queries).
/// Queries are encoded with the query prompt and route unless <c>role</c> says otherwise. Without a
/// loaded index the route answers 424 (error_type Backend).
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

        var vectors = await EmbedSparseEndpoint.EncodeAsync(context, state, texts, prompt, InputPreparer.RouteOf(role),
            truncate, TruncationDirection.Right).ConfigureAwait(false);
        var hits = new IReadOnlyList<SearchHit>[vectors.Length];
        lock (state.IndexLock)
        {
            for (int i = 0; i < vectors.Length; i++) hits[i] = index.Search(vectors[i], topK, context.RequestAborted);
        }

        await JsonOutput.WriteAsync(context, w =>
        {
            if (isBatch) w.WriteStartArray();
            foreach (var list in hits) WriteHits(w, list);
            if (isBatch) w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static void WriteHits(Utf8JsonWriter w, IReadOnlyList<SearchHit> hits)
    {
        w.WriteStartArray();
        foreach (var h in hits)
        {
            w.WriteStartObject();
            w.WriteString("id", h.Id);
            w.WriteNumber("score", h.Score);
            if (h.Text is null) w.WriteNull("text");
            else w.WriteString("text", h.Text);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
