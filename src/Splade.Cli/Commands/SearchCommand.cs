using System.Globalization;
using Splade.Evaluation;
using Splade.Search;

namespace Splade.Cli.Commands;

/// <summary>`splade search`: exact top-k from an embedded index for one query or a query file.</summary>
internal sealed class SearchCommand : ICommand
{
    public string Name => "search";

    public string Summary => "Search an embedded index with one query or a file of queries.";

    public string Usage => """
        Usage: splade search --index DIR [--model <folder|owner/name|bm25>] [--top-k 10] "query text"
               splade search --index DIR [--model ...] --queries queries.jsonl --output run.trec [--top-k 100]
          --model      defaults to the model recorded when the index was built
          --queries    JSON lines {"_id", "text"}; the run is written in the TREC format
          --algorithm  maxscore (default), blockmax or exhaustive (all exact), approximate (alpha 0.9) or seismic (default parameters)
          --threads N  search threads for a query file
          --precision  query encoder arithmetic: fp32, int8-decoder or int8 (default: what built the index)
          --backend URL  search a PostgreSQL + pgvector table instead (needs --model; --table NAME,
                         --approximate [--ef-search N] for the HNSW index)
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string? backend = args.Get("backend");
        if (backend is not null)
            return Task.FromResult(SearchPostgres(args, backend, context, cancellationToken));
        string indexDir = args.Require("index");
        string? model = args.Get("model");
        int? topKArg = args.GetInt("top-k", 1);
        string? queriesPath = args.Get("queries");
        string? output = args.Get("output");
        int? threads = args.GetInt("threads", 1);
        string algorithmName = args.Get("algorithm") ?? "maxscore";
        string? precisionName = args.Get("precision");
        args.ThrowOnUnused();
        var algorithm = algorithmName switch
        {
            "maxscore" => SearchAlgorithm.MaxScore,
            "exhaustive" => SearchAlgorithm.Exhaustive,
            "blockmax" => SearchAlgorithm.BlockMax,
            "approximate" => SearchAlgorithm.Approximate,
            "seismic" => SearchAlgorithm.Seismic,
            _ => throw new CliException($"--algorithm: expected maxscore, blockmax, approximate, seismic or exhaustive, got '{algorithmName}'."),
        };
        if (!InvertedIndex.Exists(indexDir)) throw new CliException($"'{indexDir}' is not an index.");
        // Queries in the arithmetic the documents were encoded with, unless told otherwise.
        var precision = precisionName is null ? IndexFolder.LoadPrecision(indexDir) : PrecisionOption.Parse(precisionName);
        var encoder = IndexFolder.EncoderForSearch(indexDir, model, threads, precision);
        using var index = InvertedIndex.Open(indexDir, new InvertedIndexOptions { ReadOnly = true });

        if (queriesPath is not null)
        {
            if (args.Positional.Count > 0) throw new CliException("give either a query text or --queries, not both.");
            if (output is null) throw new CliException("--output is required with --queries.");
            if (!File.Exists(queriesPath)) throw new CliException($"queries file '{queriesPath}' does not exist.");
            var queries = IrDataset.ReadJsonLines(queriesPath)
                .Select(q => (Id: IrDataset.RequireString(q.Object, "_id", queriesPath, q.Line), Text: q.Object.TryGetProperty("text", out var t) ? t.GetString() ?? "" : ""))
                .ToList();
            var vectors = encoder.EncodeQueries(queries.Select(q => q.Text).ToArray(), cancellationToken);
            var results = index.SearchBatch(vectors, topKArg ?? 100, algorithm, threads, cancellationToken);
            using (var w = new StreamWriter(output, append: false))
                TrecFiles.WriteRun(w, queries.Select((q, i) => new KeyValuePair<string, IReadOnlyList<SearchHit>>(q.Id, results[i])));
            context.Stderr.WriteLine($"{queries.Count} queries searched, run written to '{output}'.");
            return Task.FromResult(0);
        }

        if (args.Positional.Count != 1) throw new CliException("give one query text (quote it) or --queries FILE.");
        if (output is not null) throw new CliException("--output goes with --queries.");
        var vector = encoder.EncodeQueries([args.Positional[0]], cancellationToken)[0];
        var hits = index.Search(vector, topKArg ?? 10, algorithm, cancellationToken);
        for (int r = 0; r < hits.Count; r++)
        {
            string text = hits[r].Text is { } t ? "\t" + (t.Length > 120 ? t[..120] + "..." : t).ReplaceLineEndings(" ") : "";
            context.Stdout.WriteLine($"{r + 1}\t{hits[r].Score.ToString("F4", CultureInfo.InvariantCulture)}\t{hits[r].Id}{text}");
        }
        return Task.FromResult(0);
    }

    private static int SearchPostgres(CommandArgs args, string backend, CliContext context, CancellationToken cancellationToken)
    {
        if (!Backends.IsPostgres(backend)) throw new CliException($"--backend: expected a postgres:// URL or an Npgsql connection string, got '{backend}'.");
        string model = args.Require("model");
        string? table = args.Get("table");
        int topK = args.GetInt("top-k", 1) ?? 10;
        bool approximate = args.Flag("approximate");
        int? efSearch = args.GetInt("ef-search", 1, 1000);
        int? threads = args.GetInt("threads", 1);
        var precision = PrecisionOption.Get(args);
        args.ThrowOnUnused();
        if (args.Positional.Count != 1) throw new CliException("give one query text (quote it).");
        var encoder = EncoderFactory.Create(model, threads, precision);
        using var pg = Backends.OpenPostgres(backend, table, encoder.Dimension, hnsw: false);
        var vector = encoder.EncodeQueries([args.Positional[0]], cancellationToken)[0];
        var hits = approximate ? pg.SearchApproximate(vector, topK, efSearch, cancellationToken) : pg.Search(vector, topK, cancellationToken);
        for (int r = 0; r < hits.Count; r++)
        {
            string text = hits[r].Text is { } t ? "\t" + (t.Length > 120 ? t[..120] + "..." : t).ReplaceLineEndings(" ") : "";
            context.Stdout.WriteLine($"{r + 1}\t{hits[r].Score.ToString("F4", CultureInfo.InvariantCulture)}\t{hits[r].Id}{text}");
        }
        return 0;
    }
}
