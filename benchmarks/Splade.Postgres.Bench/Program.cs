using System.Diagnostics;
using Splade.Postgres;
using Splade.Postgres.Bench;
using Splade.Search;

// Load rate, exact latency, HNSW build time and HNSW recall@10 / latency against a live server.
//   dotnet run -c Release --project benchmarks/Splade.Postgres.Bench -- URL [docs] [hnswDocs] [queries]
//   dotnet run -c Release --project benchmarks/Splade.Postgres.Bench -- URL --vectors docs.jsonl --query-vectors queries.jsonl
// (the second form: real vectors written by `splade encode`, every document and query of the files)
string url = args.Length > 0 ? args[0] : File.ReadAllText("/tmp/splade-test-pg.url").Trim();
int vectorsAt = Array.IndexOf(args, "--vectors"), queriesAt = Array.IndexOf(args, "--query-vectors");
List<IndexedDocument>? realDocs = vectorsAt > 0 ? VectorFile.Read(args[vectorsAt + 1], 30522) : null;
List<Splade.Sparse.SparseVector>? realQueries = queriesAt > 0 ? VectorFile.Read(args[queriesAt + 1], 30522).Select(d => d.Vector).ToList() : null;
if ((realDocs is null) != (realQueries is null)) throw new ArgumentException("--vectors and --query-vectors go together.");
int docs = realDocs?.Count ?? (args.Length > 1 ? int.Parse(args[1]) : 1_000_000);
int hnswDocs = realDocs is not null ? docs : args.Length > 2 ? int.Parse(args[2]) : docs;
int queries = realQueries?.Count ?? (args.Length > 3 ? int.Parse(args[3]) : 50);
const int Nnz = 150, QueryNnz = 30, Seed = 42, K = 10;
var corpus = new SyntheticCorpus(30522, Seed);
var queryRandom = new Random(Seed + 1);
var queryVectors = realQueries ?? Enumerable.Range(0, queries).Select(_ => corpus.Vector(queryRandom, QueryNnz)).ToList();
IEnumerable<IndexedDocument> Documents(int count) => realDocs is not null ? realDocs.Take(count) : corpus.Documents(count, Nnz, Seed);
Console.WriteLine(realDocs is not null
    ? $"real vectors: docs={docs} (mean nnz {realDocs.Average(d => d.Vector.Count):F1}) queries={queries} (mean nnz {queryVectors.Average(q => q.Count):F1})"
    : $"docs={docs} nnz={Nnz} hnswDocs={hnswDocs} queries={queries} queryNnz={QueryNnz} seed={Seed}");

using (var index = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = "bench_exact" }))
{
    index.DropTable();
}
using (var index = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = "bench_exact" }))
{
    var sw = Stopwatch.StartNew();
    long n = index.BulkLoad(Documents(docs));
    sw.Stop();
    Console.WriteLine($"binary COPY: {n} rows in {sw.Elapsed.TotalSeconds:F1} s = {n / sw.Elapsed.TotalSeconds:F0} rows/s");
    index.Analyze();
    index.Search(queryVectors[0], K); // warm-up
    var latencies = new List<double>();
    foreach (var q in queryVectors.Take(Math.Min(queries, 20)))
    {
        sw.Restart(); index.Search(q, K); latencies.Add(sw.Elapsed.TotalMilliseconds);
    }
    Report($"exact search over {docs}", latencies);
    if (hnswDocs != docs) index.DropTable();
    else RunHnsw(index, url);
}
if (hnswDocs != docs)
{
    using var index = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = "bench_hnsw" });
    index.DropTable();
    using var fresh = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = "bench_hnsw", PruneForHnsw = true });
    fresh.BulkLoad(Documents(hnswDocs));
    fresh.Analyze();
    RunHnsw(fresh, url);
}

void RunHnsw(PgSparseIndex index, string url)
{
    var exact = queryVectors.Select(q => index.Search(q, K)).ToList();
    var exactLatencies = new List<double>();
    var sw = Stopwatch.StartNew();
    foreach (var q in queryVectors.Take(20)) { sw.Restart(); index.Search(q, K); exactLatencies.Add(sw.Elapsed.TotalMilliseconds); }
    Report($"exact search over {index.Count}", exactLatencies);
    sw.Restart();
    index.CreateHnswIndex();
    Console.WriteLine($"HNSW build (m={index.Options.HnswM}, ef_construction={index.Options.HnswEfConstruction}) over {index.Count} rows: {sw.Elapsed.TotalSeconds:F1} s");
    index.Analyze();
    foreach (int ef in new[] { 40, 100, 200, 400 })
    {
        index.SearchApproximate(queryVectors[0], K, ef);
        var latencies = new List<double>();
        int found = 0, wanted = 0;
        for (int i = 0; i < queryVectors.Count; i++)
        {
            sw.Restart();
            var hits = index.SearchApproximate(queryVectors[i], K, ef);
            latencies.Add(sw.Elapsed.TotalMilliseconds);
            wanted += exact[i].Count;
            found += hits.Count(h => exact[i].Any(e => e.Id == h.Id));
        }
        Report($"HNSW ef_search={ef} recall@10={(double)found / wanted:F3}", latencies);
    }
}

static void Report(string what, List<double> ms)
{
    ms.Sort();
    Console.WriteLine($"{what}: mean {ms.Average():F1} ms, p50 {ms[ms.Count / 2]:F1} ms, p95 {ms[(int)(ms.Count * 0.95)]:F1} ms (n={ms.Count})");
}
