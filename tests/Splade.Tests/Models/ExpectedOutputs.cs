using System.Text.Json;

namespace Splade.Tests.Models;

/// <summary>
/// One text of a <c>NAME.expected.json</c> fixture (float32 outputs of an independent PyTorch
/// BertForMaskedLM + SpladePooling; see the data README for provenance).
/// </summary>
internal sealed record ExpectedText(string Text, string Role, int[] Ids, int[] Indices, float[] Values, float[][][]? HiddenStates, (int Id, float Logit)[]? LogitsTop5);

/// <summary>Reader of the expected-output fixtures beside the model folders.</summary>
internal sealed class ExpectedOutputs
{
    public required ExpectedText[] Texts { get; init; }
    public required int[] QueryRows { get; init; }
    public required int[] DocumentColumns { get; init; }
    public required float[][] Scores { get; init; }

    public static ExpectedOutputs Load(string path)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = doc.RootElement;
        var texts = root.GetProperty("texts").EnumerateArray().Select(t => new ExpectedText(
            t.GetProperty("text").GetString()!,
            t.GetProperty("role").GetString()!,
            Ints(t.GetProperty("ids")),
            Ints(t.GetProperty("indices")),
            Floats(t.GetProperty("values")),
            t.TryGetProperty("hidden_states", out JsonElement hs)
                ? hs.EnumerateArray().Select(layer => layer.EnumerateArray().Select(Floats).ToArray()).ToArray() : null,
            t.TryGetProperty("logits_first_token_top5", out JsonElement top)
                ? top.EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetSingle())).ToArray() : null)).ToArray();
        JsonElement sim = root.GetProperty("similarity");
        return new ExpectedOutputs
        {
            Texts = texts,
            QueryRows = Ints(sim.GetProperty("query_rows")),
            DocumentColumns = Ints(sim.GetProperty("document_columns")),
            Scores = sim.GetProperty("scores").EnumerateArray().Select(Floats).ToArray(),
        };
    }

    /// <summary>The last-hidden-state fixture of all-MiniLM-L6-v2-f16: (ids, [tokens][hidden]).</summary>
    public static (int[] Ids, float[][] State)[] LoadHiddenStates(string path)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.GetProperty("results").EnumerateArray()
            .Select(r => (Ints(r.GetProperty("ids")), r.GetProperty("last_hidden_state").EnumerateArray().Select(Floats).ToArray()))
            .ToArray();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => x.GetSingle()).ToArray();
}
