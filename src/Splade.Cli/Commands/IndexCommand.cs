using Splade.Evaluation;
using Splade.Search;

namespace Splade.Cli.Commands;

/// <summary>`splade index`: encode a corpus (or read vectors) into an embedded index, resumably.</summary>
internal sealed class IndexCommand : ICommand
{
    public string Name => "index";

    public string Summary => "Build or extend an embedded inverted index from a corpus or from vectors.";

    public string Usage => """
        Usage: splade index --model <folder|owner/name|bm25> --corpus corpus.jsonl --index DIR
               splade index --vectors FILE.jsonl [--dimension 30522] --index DIR
          --corpus        JSON lines {"_id", "title", "text"} (text encoded = title + " " + text)
          --vectors       JSON lines {"id", "indices", "values"[, "text"]} made elsewhere
          --batch-size N  texts per encoder call (default 64)
          --commit-every N documents per commit (default 10000); a rerun skips ids already committed
          --no-text       do not store document texts
          --threads N     encoder threads
          --precision P   fp32 (default, exact), int8-decoder or int8 (faster approximations)
          --device D      cpu (default), cuda, cuda:N (NVIDIA GPU, fp32) or ilgpu-cpu
          --backend URL   store in PostgreSQL + pgvector instead (postgres://user:pass@host:port/db or an
                          Npgsql connection string); --index is then not needed
          --table NAME    PostgreSQL table (default splade_documents)
          --hnsw          PostgreSQL: prune documents to pgvector's 1000 non-zeros and build an HNSW index
        Progress goes to stderr.
               splade index --check DIR     verify every file (sizes, headers, CRC-32C, structure); exit 1 on damage
               splade index --repair DIR    drop damaged segments, keep the rest; says what was lost (ids in DIR/damaged-gN/lost-ids.txt)
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string? checkDir = args.Get("check");
        bool repair = args.FlagOrValue("repair", out string? repairDir);
        if (repair || checkDir is not null)
        {
            args.ThrowOnUnused();
            string dir = repairDir ?? checkDir ?? throw new CliException("--repair needs the index folder: splade index --repair DIR.");
            if (repairDir is not null && checkDir is not null && repairDir != checkDir) throw new CliException("--check and --repair name different folders.");
            return Task.FromResult(repair ? IndexCheckCommand.Repair(dir, context) : IndexCheckCommand.Check(dir, context));
        }
        string? backend = args.Get("backend");
        bool postgres = Backends.IsPostgres(backend);
        if (backend is not null && !postgres) throw new CliException($"--backend: expected a postgres:// URL or an Npgsql connection string, got '{backend}'.");
        string indexDir = postgres ? args.Get("index") ?? "" : args.Require("index");
        string? table = args.Get("table");
        bool hnsw = args.Flag("hnsw");
        string? model = args.Get("model");
        string? corpus = args.Get("corpus");
        string? vectors = args.Get("vectors");
        int batchSize = args.GetInt("batch-size", 1) ?? 64;
        int commitEvery = args.GetInt("commit-every", 1) ?? 10_000;
        int dimensionArg = args.GetInt("dimension", 1) ?? 30522;
        bool noText = args.Flag("no-text");
        int? threads = args.GetInt("threads", 1);
        var precision = PrecisionOption.Get(args);
        string device = DeviceOption.Get(args);
        args.ThrowOnUnused();
        if ((corpus is null) == (vectors is null)) throw new CliException("give exactly one of --corpus or --vectors.");
        if (corpus is not null && model is null) throw new CliException("--model is required with --corpus.");
        if (postgres)
        {
            if (corpus is null || model is null || model.Equals("bm25", StringComparison.OrdinalIgnoreCase))
                throw new CliException("--backend postgres stores SPLADE vectors of a --corpus: give --model <folder|owner/name> and --corpus.");
            var spladeEncoder = EncoderFactory.Create(model, threads, precision, device);
            using var pg = Backends.OpenPostgres(backend!, table, spladeEncoder.Dimension, hnsw);
            // Recorded as the table's comment, so that search and eval on it need no --model.
            SearchBackend.RecordModel(pg, model, precision);
            long stored = Backends.IndexCorpus(pg, spladeEncoder, IndexFolder.ReadCorpus(corpus), batchSize, !noText, context, cancellationToken);
            if (hnsw)
            {
                context.Stderr.WriteLine("building the HNSW index (sparsevec_ip_ops)...");
                pg.CreateHnswIndex(cancellationToken);
            }
            context.Stderr.WriteLine($"done: {stored} documents stored, {pg.Count} in table '{pg.Options.Table}'.");
            return Task.FromResult(0);
        }
        var options = new InvertedIndexOptions { StoreTexts = !noText };

        long added = 0, skipped = 0;
        if (vectors is not null)
        {
            using var index = InvertedIndex.OpenOrCreate(indexDir, dimensionArg, options);
            var pending = new List<IndexedDocument>();
            foreach (var doc in IndexFolder.ReadVectors(vectors, index.Dimension))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (index.Contains(doc.Id)) { skipped++; continue; }
                pending.Add(doc);
                if (pending.Count >= commitEvery) Flush(index, pending, ref added, skipped, context);
            }
            Flush(index, pending, ref added, skipped, context);
            context.Stderr.WriteLine($"done: {added} added, {skipped} already indexed, {index.Count} documents in '{indexDir}'.");
            return Task.FromResult(0);
        }

        var encoder = EncoderFactory.Create(model!, threads, precision, device);
        if (encoder is ICorpusFittedEncoder fitted && !fitted.TryLoad(indexDir))
        {
            context.Stderr.WriteLine($"fitting {model} on '{corpus}'...");
            fitted.Fit(IndexFolder.ReadCorpus(corpus!).Select(d => d.FullText));
            fitted.Save(indexDir);
        }
        using (var index = InvertedIndex.OpenOrCreate(indexDir, encoder.Dimension, options))
        {
            IndexFolder.SaveModelSpec(indexDir, model!, precision);
            var pending = new List<IndexedDocument>();
            var batch = new List<CorpusDocument>();
            void EncodeBatch()
            {
                if (batch.Count == 0) return;
                var vecs = encoder.EncodeDocuments(batch.Select(d => d.FullText).ToArray(), cancellationToken);
                for (int i = 0; i < batch.Count; i++) pending.Add(new IndexedDocument(batch[i].Id, vecs[i], batch[i].FullText));
                batch.Clear();
            }
            foreach (var doc in IndexFolder.ReadCorpus(corpus!))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (index.Contains(doc.Id)) { skipped++; continue; }
                batch.Add(doc);
                if (batch.Count >= batchSize) EncodeBatch();
                if (pending.Count >= commitEvery) Flush(index, pending, ref added, skipped, context);
            }
            EncodeBatch();
            Flush(index, pending, ref added, skipped, context);
            context.Stderr.WriteLine($"done: {added} added, {skipped} already indexed, {index.Count} documents in '{indexDir}'.");
        }
        return Task.FromResult(0);
    }

    private static void Flush(InvertedIndex index, List<IndexedDocument> pending, ref long added, long skipped, CliContext context)
    {
        if (pending.Count == 0) return;
        index.Upsert(pending);
        index.Commit();
        added += pending.Count;
        pending.Clear();
        context.Stderr.WriteLine($"committed {index.Count} documents ({added} added, {skipped} skipped as already indexed)");
    }
}
