using Npgsql;
using Splade.Postgres;
using Splade.Search;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Engines;

/// <summary>
/// The pgvector store against a real server (started by `.ci/postgres.sh`); every test skips with
/// a note when no server answers. Each test works in its own table and drops it.
/// </summary>
public sealed class PgSparseIndexTests(ITestOutputHelper output)
{
    private const int Dim = 30522;

    private PgSparseIndex? Open(string prefix, PgSparseIndexOptions? options = null)
    {
        string? url = PostgresTestServer.Url(output);
        if (url is null) return null;
        options = (options ?? new PgSparseIndexOptions()) with { Table = PostgresTestServer.UniqueTable(prefix) };
        return PgSparseIndex.Open(url, options);
    }

    [Fact]
    public void Upsert_get_replace_delete_round_trip()
    {
        using var index = Open("t_crud");
        if (index is null) return;
        try
        {
            var a = new SparseVector(Dim, [1, 7, 30521], [0.5f, 1.25f, 2f]);
            var b = new SparseVector(Dim, [7], [3f]);
            index.Upsert([new IndexedDocument("a", a, "alpha"), new IndexedDocument("b", b)]);
            Assert.Equal(2, index.Count);
            var got = index.Get("a")!;
            Assert.Equal(a, got.Vector);
            Assert.Equal("alpha", got.Text);
            Assert.Null(index.Get("b")!.Text);

            var a2 = new SparseVector(Dim, [2], [9f]);
            index.Upsert([new IndexedDocument("a", a2, "alpha v2")]);
            Assert.Equal(2, index.Count);
            Assert.Equal(a2, index.Get("a")!.Vector);
            Assert.Equal("alpha v2", index.Get("a")!.Text);

            Assert.True(index.Delete("a"));
            Assert.False(index.Delete("a"));
            Assert.Equal(1, index.Count);
            Assert.Null(index.Get("a"));
            index.Commit();
        }
        finally { index.DropTable(); }
    }

    [Fact]
    public void Exact_search_matches_brute_force_with_scores_and_tie_order()
    {
        using var index = Open("t_exact");
        if (index is null) return;
        try
        {
            var random = new Random(11);
            // A small vocabulary slice so that documents overlap a lot; plus two exact ties.
            var docs = Enumerable.Range(0, 300)
                .Select(i => (Id: $"d{i:D3}", Vector: Shift(RandomSparse.Vector(random, 400, 1 + random.Next(60)), 1000)))
                .ToList();
            var tie = new SparseVector(Dim, [1005], [2f]);
            docs.Add(("tie-b", tie));
            docs.Add(("tie-a", tie));
            index.Upsert(docs.Select(d => new IndexedDocument(d.Id, d.Vector, "text " + d.Id)).ToList());

            for (int q = 0; q < 8; q++)
            {
                var query = q == 0 ? new SparseVector(Dim, [1005], [1f]) : Shift(RandomSparse.Vector(random, 400, 5 + random.Next(30)), 1000);
                var expected = RandomSparse.BruteForce(docs, query, 10);
                var hits = index.Search(query, 10);
                Assert.Equal(expected.Count, hits.Count);
                for (int i = 0; i < hits.Count; i++)
                {
                    Assert.Equal(expected[i].Score, hits[i].Score, expected[i].Score * 1e-5f);
                    Assert.Equal("text " + hits[i].Id, hits[i].Text);
                }
                // Ids equal where scores are not within float noise of a neighbour.
                AssertSameRanking(expected, hits);
            }
            var tieHits = index.Search(new SparseVector(Dim, [1005], [1f]), 300);
            int ia = tieHits.ToList().FindIndex(h => h.Id == "tie-a"), ib = tieHits.ToList().FindIndex(h => h.Id == "tie-b");
            Assert.True(ia >= 0 && ib == ia + 1, $"tie-a at {ia}, tie-b at {ib}");
            Assert.Empty(index.Search(new SparseVector(Dim, [5], [1f]), 10));
            Assert.Empty(index.Search(new SparseVector(Dim, [1005], [1f]), 0));
        }
        finally { index.DropTable(); }
    }

    [Fact]
    public void Binary_copy_load_then_replace_existing_merges()
    {
        using var index = Open("t_copy", new PgSparseIndexOptions { CopyBatchSize = 64 });
        if (index is null) return;
        try
        {
            var random = new Random(5);
            var docs = Enumerable.Range(0, 200).Select(i => new IndexedDocument($"c{i}", RandomSparse.Vector(random, Dim, 150), i % 3 == 0 ? null : $"doc {i}")).ToList();
            Assert.Equal(200, index.BulkLoad(docs));
            Assert.Equal(200, index.Count);
            Assert.Equal(docs[17].Vector, index.Get("c17")!.Vector);
            Assert.Null(index.Get("c3")!.Text);
            Assert.Equal("doc 4", index.Get("c4")!.Text);

            // Plain COPY refuses an existing id...
            var again = new[] { new IndexedDocument("c1", docs[2].Vector) };
            var error = Assert.Throws<PostgresException>(() => index.BulkLoad(again));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
            // ...the staging path replaces it and adds new ones.
            Assert.Equal(2, index.BulkLoad([new IndexedDocument("c1", docs[2].Vector, "replaced"), new IndexedDocument("new", docs[5].Vector)], replaceExisting: true));
            Assert.Equal(201, index.Count);
            Assert.Equal(docs[2].Vector, index.Get("c1")!.Vector);
            Assert.Equal("replaced", index.Get("c1")!.Text);

            var query = RandomSparse.Vector(random, Dim, 3000);
            var all = docs.Where(d => d.Id != "c1").Select(d => (d.Id, d.Vector))
                .Append(("c1", docs[2].Vector)).Append(("new", docs[5].Vector));
            AssertSameRanking(RandomSparse.BruteForce(all, query, 20), index.Search(query, 20));
        }
        finally { index.DropTable(); }
    }

    [Fact]
    public void Hnsw_search_prunes_to_1000_non_zeros_and_recalls_exact_top10()
    {
        using var index = Open("t_hnsw", new PgSparseIndexOptions { PruneForHnsw = true, HnswEfSearch = 200 });
        if (index is null) return;
        try
        {
            var random = new Random(3);
            var docs = Enumerable.Range(0, 400).Select(i => new IndexedDocument($"h{i:D3}", Shift(RandomSparse.Vector(random, 2000, 20 + random.Next(80)), 0))).ToList();
            var big = RandomSparse.Vector(random, Dim, 1500);
            docs.Add(new IndexedDocument("big", big));
            index.BulkLoad(docs);
            var stored = index.Get("big")!.Vector;
            Assert.Equal(PgSparseIndexOptions.HnswMaxNonZeros, stored.Count);
            Assert.Equal(big.TopK(1000), stored);

            index.CreateHnswIndex();
            Assert.True(index.HasHnswIndex);
            index.Analyze();
            int found = 0, wanted = 0;
            for (int q = 0; q < 20; q++)
            {
                var query = Shift(RandomSparse.Vector(random, 2000, 10 + random.Next(20)), 0);
                var exact = index.Search(query, 10);
                var approx = index.SearchApproximate(query, 10);
                for (int i = 1; i < approx.Count; i++) Assert.True(approx[i - 1].Score >= approx[i].Score);
                wanted += exact.Count;
                found += approx.Count(h => exact.Any(e => e.Id == h.Id));
            }
            double recall = (double)found / wanted;
            output.WriteLine($"HNSW recall@10 on 401 docs (ef_search 200): {recall:F3}");
            Assert.True(recall >= 0.9, $"recall@10 {recall:F3}");
        }
        finally { index.DropTable(); }
    }

    [Fact]
    public void Hnsw_index_refuses_unpruned_vectors_over_1000_non_zeros()
    {
        using var index = Open("t_nnz");
        if (index is null) return;
        try
        {
            index.Upsert([new IndexedDocument("big", RandomSparse.Vector(new Random(1), Dim, 1001))]);
            var error = Assert.Throws<PostgresException>(() => index.CreateHnswIndex());
            Assert.Contains("1000", error.MessageText);
        }
        finally { index.DropTable(); }
    }

    [Fact]
    public void Wrong_dimensions_are_rejected_with_the_table_named()
    {
        using var index = Open("t_dim");
        if (index is null) return;
        try
        {
            var error = Assert.Throws<ArgumentException>(() => index.Upsert([new IndexedDocument("x", new SparseVector(10, [1], [1f]))]));
            Assert.Contains("sparsevec(30522)", error.Message);
            Assert.Throws<ArgumentException>(() => index.Search(new SparseVector(10, [1], [1f]), 5));
            var reopen = Assert.Throws<InvalidOperationException>(() =>
                PgSparseIndex.Open(PostgresTestServer.Url(output)!, index.Options with { Dimension = 100 }));
            Assert.Contains("sparsevec(100)", reopen.Message);
        }
        finally { index.DropTable(); }
    }

    private static SparseVector Shift(SparseVector v, int offset)
    {
        var indices = v.Indices.ToArray().Select(i => i + offset).ToArray();
        return new SparseVector(Dim, indices, v.Values);
    }

    /// <summary>Same ids in the same order, except that hits whose scores differ by float noise may swap.</summary>
    private static void AssertSameRanking(List<(string Id, float Score)> expected, IReadOnlyList<SearchHit> hits)
    {
        Assert.Equal(expected.Count, hits.Count);
        for (int i = 0; i < hits.Count; i++)
        {
            if (expected[i].Id == hits[i].Id) continue;
            Assert.True(Math.Abs(expected[i].Score - hits[i].Score) <= 1e-4f * Math.Abs(expected[i].Score),
                $"rank {i}: expected {expected[i].Id} ({expected[i].Score}), got {hits[i].Id} ({hits[i].Score})");
        }
    }
}
