using System.Text.Json;
using Splade.Cli.Io;
using Splade.Sparse;

namespace Splade.Cli.Commands;

/// <summary>`splade decode`: the tokens and weights of vectors, by weight.</summary>
internal sealed class DecodeCommand : ICommand
{
    public string Name => "decode";

    public string Summary => "Show the top tokens of a text's vector, or of vectors read from JSON lines.";

    public string Usage => """
        splade decode --model <folder|owner/name[@rev]> [--role query|document] [--top-k K] "text" ["text" ...]
        splade decode --model <folder|owner/name[@rev]> --vectors FILE|- [--top-k K]

          Prints one JSON line per vector: {"id"?, "text"?, "active_dims": n, "tokens": [["token", weight], ...]}
          by weight descending (default top 20; --top-k 0 for all). --vectors reads `splade encode` output.
        """;

    public async Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string role = args.Get("role") ?? "document";
        if (role is not ("query" or "document")) throw new CliException($"--role must be query or document, got '{role}'.");
        int topK = args.GetInt("top-k", min: 0) ?? 20;
        string? vectorsPath = args.Get("vectors");
        _ = args.Has("model");
        _ = args.Has("threads");
        args.ThrowOnUnused();
        if (vectorsPath is null && args.Positional.Count == 0) throw new CliException("give texts to decode, or --vectors FILE.");

        var encoder = ModelLoading.Load(args, context);
        var items = new List<(JsonElement? Id, string? Text, SparseVector Vector)>();
        if (vectorsPath is not null)
        {
            using var input = new InputLines(vectorsPath, context);
            foreach (var r in VectorRecords.Read(input, encoder.Dimension)) items.Add((r.Id, null, r.Vector));
        }
        else
        {
            var texts = args.Positional;
            var vectors = role == "query" ? encoder.EncodeQueries(texts, cancellationToken: cancellationToken) : encoder.EncodeDocuments(texts, cancellationToken: cancellationToken);
            for (int i = 0; i < texts.Count; i++) items.Add((null, texts[i], vectors[i]));
        }

        await using var output = OutputStream.Open(null, context);
        await using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var (id, text, vector) in items)
        {
            w.WriteStartObject();
            if (id is { } i) { w.WritePropertyName("id"); i.WriteTo(w); }
            if (text is not null) w.WriteString("text", text);
            w.WriteNumber("active_dims", vector.Count);
            w.WriteStartArray("tokens");
            foreach (var (token, weight) in encoder.Decode(vector, topK == 0 ? null : topK))
            {
                w.WriteStartArray();
                w.WriteStringValue(token);
                w.WriteNumberValue(weight);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.Flush();
            w.Reset();
            output.WriteByte((byte)'\n');
        }
        return 0;
    }
}
