using System.Text.Json;
using Splade.Sparse;

namespace Splade.Cli.Commands;

/// <summary>`splade similarity`: scores of queries against documents, with the tokens behind each score.</summary>
internal sealed class SimilarityCommand : ICommand
{
    public string Name => "similarity";

    public string Summary => "Score queries against documents (dot by default) and explain the scores.";

    public string Usage => """
        splade similarity --model <folder|owner/name[@rev]> --query TEXT [--query TEXT ...] --document TEXT [--document TEXT ...]
                          [--function dot|cosine|euclidean|manhattan] [--explain K] [--threads N] [--device D]

          Queries are encoded with encode_query, documents with encode_document. Prints one JSON object:
          {"function", "scores": [[query x document]]} and, with --explain K, for every pair the K
          tokens that contribute most to the dot score ("explain": [[[{"token","weight"}]]]).
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var queries = args.GetAll("query");
        var documents = args.GetAll("document");
        if (queries.Count == 0) throw new CliException("give at least one --query TEXT.");
        if (documents.Count == 0) throw new CliException("give at least one --document TEXT.");
        string? fn = args.Get("function");
        int? explain = args.GetInt("explain", min: 1);
        _ = args.Has("model");
        _ = args.Has("threads");
        _ = args.Has("device");
        args.ThrowOnUnused();

        var encoder = ModelLoading.Load(args, context);
        SimilarityFunction function;
        try { function = fn is null ? encoder.Similarity : SparseSimilarity.Parse(fn); }
        catch (ArgumentException e) { throw new CliException(e.Message); }

        var q = encoder.EncodeQueries(queries, cancellationToken: cancellationToken);
        var d = encoder.EncodeDocuments(documents, cancellationToken: cancellationToken);
        var scores = SparseSimilarity.Matrix(function, q, d);

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("function", SparseSimilarity.Name(function));
            w.WriteStartArray("scores");
            for (int i = 0; i < q.Count; i++)
            {
                w.WriteStartArray();
                for (int j = 0; j < d.Count; j++) w.WriteNumberValue(scores[i, j]);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            if (explain is int k)
            {
                w.WriteStartArray("explain");
                for (int i = 0; i < q.Count; i++)
                {
                    w.WriteStartArray();
                    for (int j = 0; j < d.Count; j++)
                    {
                        w.WriteStartArray();
                        foreach (var (token, weight) in encoder.Decode(SparseEncoder.Intersection(q[i], d[j]), k))
                        {
                            w.WriteStartObject();
                            w.WriteString("token", token);
                            w.WriteNumber("weight", weight);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        context.Stdout.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        return Task.FromResult(0);
    }
}
