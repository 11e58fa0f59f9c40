using System.Globalization;
using Splade.Evaluation;
using Splade.Search;

namespace Splade.Cli.Commands;

/// <summary>`splade search`: top-k from an embedded index or a PostgreSQL table, for one query or a query file.</summary>
internal sealed class SearchCommand : ICommand
{
    public string Name => "search";

    public string Summary => "Search an embedded index or a PostgreSQL table with one query or a file of queries.";

    public string Usage => """
        Usage: splade search (--index DIR | --backend URL) [--model <folder|owner/name|bm25>] [--top-k 10] "query text"
               splade search (--index DIR | --backend URL) [--model ...] --queries queries.jsonl --output run.trec [--top-k 100]
          --index DIR    the embedded index to search
          --backend URL  a PostgreSQL + pgvector table instead (postgres://user:pass@host:port/db or an Npgsql
                         connection string; --table NAME, default splade_documents); every other option is the same
          --model      defaults to the model recorded when the index (or table) was built
          --queries    JSON lines {"_id", "text"}; the run is written in the TREC format
          --algorithm  maxscore (default), blockmax or exhaustive (all exact), approximate (alpha 0.9; PostgreSQL:
                       its HNSW index) or seismic (default parameters; embedded index only)
          --approximate  short for --algorithm approximate; --ef-search N sets the HNSW beam on PostgreSQL
          --query-mass M  embedded approximate search: candidates from the query's heaviest terms holding M of its
                       weight (0 < M ≤ 1), rescored with the whole query (docs/search.md)
          --threads N  search threads for a query file
          --precision  query encoder arithmetic: fp32, int8-decoder or int8 (default: what built the index)
          --device     query encoder device: cpu (default), cuda, cuda:N or ilgpu-cpu
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var location = SearchLocation.Parse(args, required: true);
        string? model = args.Get("model");
        int? topKArg = args.GetInt("top-k", 1);
        string? queriesPath = args.Get("queries");
        string? output = args.Get("output");
        int? threads = args.GetInt("threads", 1);
        string? algorithmName = args.Get("algorithm");
        bool approximate = args.Flag("approximate");
        int? efSearch = args.GetInt("ef-search", 1, 1000);
        string? queryMassText = args.Get("query-mass");
        float? queryMass = null;
        if (queryMassText is not null)
        {
            if (!float.TryParse(queryMassText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float qm))
                throw new CliException($"--query-mass: expected a number, got '{queryMassText}'.");
            queryMass = qm;
        }
        string? precisionName = args.Get("precision");
        string device = DeviceOption.Get(args);
        args.ThrowOnUnused();
        var method = SearchMethod.Parse(algorithmName, approximate, efSearch, location.IsPostgres, queryMass);
        if (queriesPath is not null)
        {
            if (args.Positional.Count > 0) throw new CliException("give either a query text or --queries, not both.");
            if (output is null) throw new CliException("--output is required with --queries.");
            if (!File.Exists(queriesPath)) throw new CliException($"queries file '{queriesPath}' does not exist.");
        }
        else
        {
            if (args.Positional.Count != 1) throw new CliException("give one query text (quote it) or --queries FILE.");
            if (output is not null) throw new CliException("--output goes with --queries.");
        }
        // Queries in the arithmetic the documents were encoded with, unless told otherwise.
        var encoder = location.EncoderForSearch(model, precisionName, threads, device);
        using var backend = location.Open(encoder.Dimension, create: false);
        if (backend.Index.Count == 0) context.Stderr.WriteLine($"warning: {backend.Name} holds no documents.");

        if (queriesPath is not null)
        {
            var queries = IrDataset.ReadJsonLines(queriesPath)
                .Select(q => (Id: IrDataset.RequireString(q.Object, "_id", queriesPath, q.Line), Text: q.Object.TryGetProperty("text", out var t) ? t.GetString() ?? "" : ""))
                .ToList();
            var vectors = encoder.EncodeQueries(queries.Select(q => q.Text).ToArray(), cancellationToken);
            var results = backend.SearchBatch(vectors, topKArg ?? 100, method, threads, cancellationToken);
            using (var w = new StreamWriter(output!, append: false))
                TrecFiles.WriteRun(w, queries.Select((q, i) => new KeyValuePair<string, IReadOnlyList<SearchHit>>(q.Id, results[i])));
            context.Stderr.WriteLine($"{queries.Count} queries searched, run written to '{output}'.");
            return Task.FromResult(0);
        }

        var vector = encoder.EncodeQueries([args.Positional[0]], cancellationToken)[0];
        var hits = backend.SearchBatch([vector], topKArg ?? 10, method, 1, cancellationToken)[0];
        for (int r = 0; r < hits.Count; r++)
        {
            string text = hits[r].Text is { } t ? "\t" + (t.Length > 120 ? t[..120] + "..." : t).ReplaceLineEndings(" ") : "";
            context.Stdout.WriteLine($"{r + 1}\t{hits[r].Score.ToString("F4", CultureInfo.InvariantCulture)}\t{hits[r].Id}{text}");
        }
        return Task.FromResult(0);
    }
}
