using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Splade.Server.Http;
using Splade.Sparse;

namespace Splade.Server.Endpoints;

/// <summary>
/// <c>POST /embed_sparse</c> in TEI's shape: <c>{"inputs": "text" | ["t1", ...], "truncate": false,
/// "truncation_direction": "Right", "prompt_name": null}</c> → one list of <c>{"index", "value"}</c>
/// per input, ascending index. Beyond TEI: <c>role</c> (query | document: the role's prompt and
/// route), <c>top_k</c> and <c>min_weight</c> pruning, and <c>format</c> (tei, indices, tokens,
/// qdrant, elasticsearch: then one object per input with the fields <c>splade encode</c> writes).
/// </summary>
internal static class EmbedSparseEndpoint
{
    public static async Task Handle(HttpContext context, ServingState state)
    {
        using var req = await RequestJson.ReadAsync(context).ConfigureAwait(false);
        var (texts, _) = req.Inputs("inputs");
        CheckBatchSize(texts.Length, state.Options.MaxClientBatchSize);
        bool truncate = req.Bool("truncate", state.Options.AutoTruncate);
        var direction = InputPreparer.ParseDirection(req.String("truncation_direction"));
        string? role = InputPreparer.CheckRole(req.String("role"));
        string prompt = state.Inputs.ResolvePrompt(req.String("prompt_name"), role);
        int? topK = req.Int("top_k", min: 0);
        float? minWeight = req.Float("min_weight");
        SparseFormat format = ParseFormat(req.String("format"));

        string route = InputPreparer.RouteOf(role);
        var vectors = await EncodeAsync(context, state, texts, prompt, route, truncate, direction).ConfigureAwait(false);
        for (int i = 0; i < vectors.Length; i++) vectors[i] = Prune(vectors[i], topK, minWeight);

        Func<int, string> idToToken = state.Encoder.Tokenizer.IdToToken;
        await JsonOutput.WriteAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var v in vectors)
            {
                if (format == SparseFormat.Tei)
                {
                    SparseFormats.WriteTei(w, v);
                    continue;
                }
                w.WriteStartObject();
                SparseFormats.WriteFields(w, v, format, idToToken);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>Tokenizes and validates every input, then queues them for the batcher under one concurrency permit.</summary>
    public static async Task<SparseVector[]> EncodeAsync(HttpContext context, ServingState state, string[] texts, string prompt,
        string route, bool truncate, TruncationDirection direction)
    {
        using var permit = state.EnterModel();
        var ids = new int[texts.Length][];
        for (int i = 0; i < texts.Length; i++) ids[i] = state.Inputs.TokenIds(texts[i], prompt, route, truncate, direction);
        foreach (var s in ids) state.Metrics.InputTokens(s.Length);
        try
        {
            return await state.Batcher.EncodeAsync(ids, route, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ApiException)
        {
            throw new ApiException(ErrorType.Backend, $"Inference failed: {e.Message}");
        }
    }

    /// <summary>TEI's client batch check: more than max_client_batch_size inputs → 413 Validation.</summary>
    public static void CheckBatchSize(int count, int max)
    {
        if (count > max) throw new ApiException(ErrorType.Validation, $"batch size {count} > maximum allowed batch size {max}");
    }

    private static SparseFormat ParseFormat(string? name)
    {
        if (name is null) return SparseFormat.Tei;
        try { return SparseFormats.Parse(name); }
        catch (ArgumentException e) { throw new ApiException(ErrorType.Tokenizer, e.Message, StatusCodes.Status422UnprocessableEntity); }
    }

    private static SparseVector Prune(SparseVector v, int? topK, float? minWeight)
    {
        if (minWeight is float m) v = v.Prune(m);
        if (topK is int k) v = v.TopK(k);
        return v;
    }
}
