using Splade.Sparse;
using Splade.Tests.Models;
using Xunit.Abstractions;

namespace Splade.Tests.Encoder;

/// <summary>
/// Text in, vector out, through the public API: tokenizer + network + pooling together must give
/// the fixture's ids, non-zero sets and values (≤ 1e-4) and its similarity matrix.
/// </summary>
public class SparseEncoderEndToEndTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => new() { "tiny-splade", "tiny-splade-variant" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Texts_encode_to_the_fixture_vectors(string name) => CheckModel(TestData.Model(name), TestData.Model(name + ".expected.json"));

    [Fact]
    public void Bert_mini_random_splade_texts_encode_to_the_fixture_vectors()
    {
        if (TestData.SharedData is not { } shared)
        {
            output.WriteLine("SKIPPED: shared data (bert-mini-random-splade) not found; set SPLADE_SHARED_DATA to run.");
            return;
        }
        CheckModel(Path.Combine(shared, "models", "bert-mini-random-splade"), Path.Combine(shared, "models", "bert-mini-random-splade.expected.json"));
    }

    private void CheckModel(string folder, string expectedPath)
    {
        var expected = ExpectedOutputs.Load(expectedPath);
        var encoder = SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = 2 });
        var queries = expected.Texts.Where(t => t.Role == "query").Select(t => t.Text).ToArray();
        var documents = expected.Texts.Where(t => t.Role == "document").Select(t => t.Text).ToArray();
        var q = encoder.EncodeQueries(queries);
        var d = encoder.EncodeDocuments(documents);
        int qi = 0, di = 0;
        double maxDiff = 0;
        foreach (var t in expected.Texts)
        {
            Assert.Equal(t.Ids, encoder.TokenIds(t.Text, t.Role));
            var v = t.Role == "query" ? q[qi++] : d[di++];
            Assert.Equal(t.Indices, v.Indices.ToArray());
            for (int k = 0; k < v.Count; k++) maxDiff = Math.Max(maxDiff, Math.Abs(v.Values[k] - t.Values[k]));
        }
        Assert.True(maxDiff <= 1e-4, $"max abs diff {maxDiff}");

        var rows = expected.QueryRows.Select(r => Array.IndexOf(expected.Texts.Where(t => t.Role == "query").ToArray(), expected.Texts[r])).ToArray();
        var cols = expected.DocumentColumns.Select(c => Array.IndexOf(expected.Texts.Where(t => t.Role == "document").ToArray(), expected.Texts[c])).ToArray();
        var scores = encoder.SimilarityMatrix(rows.Select(r => q[r]).ToArray(), cols.Select(c => d[c]).ToArray());
        double maxScoreDiff = 0;
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < cols.Length; j++)
                maxScoreDiff = Math.Max(maxScoreDiff, Math.Abs(scores[i, j] - expected.Scores[i][j]));
        Assert.True(maxScoreDiff <= 1e-4 * Math.Max(1, expected.Scores.SelectMany(s => s).Max(Math.Abs)), $"max score diff {maxScoreDiff}");
        output.WriteLine($"{Path.GetFileName(folder)}: {expected.Texts.Length} texts, max abs diff {maxDiff:E2}, max score diff {maxScoreDiff:E2}");
    }

    [Fact]
    public void Batched_equals_one_by_one_and_order_is_kept()
    {
        var expected = ExpectedOutputs.Load(TestData.Model("tiny-splade.expected.json"));
        var texts = expected.Texts.Select(t => t.Text).ToArray();
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"), new SparseEncoderOptions { Threads = 2 });
        var batched = encoder.Encode(texts, new EncodeOptions { BatchSize = 7 });
        for (int i = 0; i < texts.Length; i++)
        {
            var single = encoder.EncodeDocument(texts[i]);
            Assert.Equal(single.Indices.ToArray(), batched[i].Indices.ToArray());
            for (int k = 0; k < single.Count; k++) Assert.True(Math.Abs(single.Values[k] - batched[i].Values[k]) <= 1e-5);
        }
    }

    [Fact]
    public void One_thread_equals_two_threads()
    {
        var texts = ExpectedOutputs.Load(TestData.Model("tiny-splade.expected.json")).Texts.Select(t => t.Text).ToArray();
        var one = SparseEncoder.Load(TestData.Model("tiny-splade"), new SparseEncoderOptions { Threads = 1 }).EncodeDocuments(texts);
        var two = SparseEncoder.Load(TestData.Model("tiny-splade"), new SparseEncoderOptions { Threads = 2 }).EncodeDocuments(texts);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(one[i], two[i]);
    }

    [Fact]
    public void Max_active_dims_keeps_the_largest_weights()
    {
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"));
        var full = encoder.EncodeDocument("where is oestrogen produced");
        var top = encoder.EncodeDocument("where is oestrogen produced", maxActiveDims: 5);
        Assert.Equal(5, top.Count);
        Assert.Equal(full.TopK(5), top);
        encoder.MaxActiveDims = 3;
        Assert.Equal(3, encoder.EncodeQuery("where is oestrogen produced").Count);
    }

    [Fact]
    public void Decode_lists_tokens_by_weight()
    {
        var expected = ExpectedOutputs.Load(TestData.Model("tiny-splade.expected.json"));
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"));
        var v = encoder.EncodeQuery(expected.Texts[0].Text);
        var decoded = encoder.Decode(v, 3);
        Assert.Equal(3, decoded.Count);
        Assert.True(decoded[0].Weight >= decoded[1].Weight && decoded[1].Weight >= decoded[2].Weight);
        Assert.Equal(encoder.Tokenizer.IdToToken(v.Indices[Enumerable.Range(0, v.Count).MaxBy(i => v.Values[i])]), decoded[0].Token);
        Assert.Equal(v.Count, encoder.Decode(v).Count);
    }

    [Fact]
    public void Empty_and_over_long_texts_are_handled()
    {
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"));
        Assert.Equal([encoder.Tokenizer.ClsTokenId, encoder.Tokenizer.SepTokenId], encoder.TokenIds(""));
        Assert.True(encoder.EncodeDocument("").Count > 0);
        string huge = string.Join(' ', Enumerable.Repeat("aeronautics", 50_000));
        var ids = encoder.TokenIds(huge);
        Assert.Equal(encoder.MaxSeqLength, ids.Length);
        Assert.Equal(encoder.Tokenizer.SepTokenId, ids[^1]);
        Assert.True(encoder.EncodeDocument(huge).Count > 0);
        Assert.Throws<ArgumentNullException>(() => encoder.EncodeDocuments([null!]));
    }

    [Fact]
    public void Cancellation_stops_between_batches()
    {
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => encoder.Encode(["a", "b"], new EncodeOptions(), cts.Token));
    }

    [Fact]
    public void Progress_reports_every_batch()
    {
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"));
        var seen = new List<(int, int)>();
        encoder.Encode(Enumerable.Range(0, 10).Select(i => $"text {i}").ToArray(), new EncodeOptions { BatchSize = 4, Progress = new SyncProgress(seen) });
        Assert.Equal([(4, 10), (8, 10), (10, 10)], seen);
    }

    [Fact]
    public void Unknown_prompt_name_is_an_error()
    {
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"));
        Assert.Throws<ArgumentException>(() => encoder.Encode(["x"], new EncodeOptions { PromptName = "nope" }));
    }

    private sealed class SyncProgress(List<(int, int)> seen) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => seen.Add(value);
    }
}
