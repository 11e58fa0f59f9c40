using System.Text.Json;
using Splade.Search;
using Splade.Server;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Server;

/// <summary>Every endpoint of the server over real HTTP, against the library's answers.</summary>
public sealed class ServerEndpointTests(ITestOutputHelper output)
{
    private static readonly string[] Texts =
    [
        "where is oestrogen produced",
        "The quick brown fox jumps over the lazy dog.",
        "  Caffè latte, naïve café — 東京 ünïcödé  ",
        "a",
        "SPLADE learns sparse lexical representations with expansion terms for retrieval.",
    ];

    [Fact]
    public async Task Embed_sparse_vectors_are_bit_identical_to_the_encoder()
    {
        await using var h = await ServerHarness.StartAsync();
        var enc = ServerHarness.Encoder;
        var response = await h.PostAsync("/embed_sparse", new { inputs = Texts });
        Assert.Equal(200, (int)response.StatusCode);
        var got = ServerHarness.ParseTei(await response.Content.ReadAsStringAsync(), enc.Dimension);
        // No role and no prompt_name: TEI applies no prompt; the route is the document route.
        var expected = enc.Encode(Texts, new EncodeOptions { PromptName = null, Route = "document" });
        Assert.Equal(Texts.Length, got.Length);
        for (int i = 0; i < Texts.Length; i++) ServerHarness.AssertBitIdentical(expected[i], got[i]);

        // A single string gives a list with one vector, equal to the same text in a batch.
        var single = await h.PostAsync("/embed_sparse", new { inputs = Texts[1] });
        var one = ServerHarness.ParseTei(await single.Content.ReadAsStringAsync(), enc.Dimension);
        Assert.Single(one);
        ServerHarness.AssertBitIdentical(expected[1], one[0]);

        // role=query is encode_query.
        var q = await h.PostAsync("/embed_sparse", new { inputs = Texts, role = "query" });
        var gotQ = ServerHarness.ParseTei(await q.Content.ReadAsStringAsync(), enc.Dimension);
        var expectedQ = enc.EncodeQueries(Texts);
        for (int i = 0; i < Texts.Length; i++) ServerHarness.AssertBitIdentical(expectedQ[i], gotQ[i]);
    }

    [Fact]
    public async Task Embed_sparse_vectors_equal_the_encode_verb_output()
    {
        string dir = Directory.CreateTempSubdirectory("splade-serve-").FullName;
        try
        {
            string input = Path.Combine(dir, "in.txt"), outFile = Path.Combine(dir, "out.jsonl");
            await File.WriteAllLinesAsync(input, Texts.Select(t => t.Trim()));
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int rc = await Splade.Cli.Program.RunAsync(
                ["encode", "--model", TestData.Model("tiny-splade"), "--input", input, "--input-format", "text", "--output", outFile, "--threads", "1"],
                new Splade.Cli.CliContext(TextReader.Null, stdout, stderr), CancellationToken.None);
            Assert.True(rc == 0, stderr.ToString());
            var lines = await File.ReadAllLinesAsync(outFile);

            await using var h = await ServerHarness.StartAsync();
            var response = await h.PostAsync("/embed_sparse", new { inputs = Texts, role = "document", format = "indices" });
            Assert.Equal(200, (int)response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var items = doc.RootElement.EnumerateArray().ToArray();
            Assert.Equal(lines.Length, items.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                using var line = JsonDocument.Parse(lines[i]);
                Assert.Equal(Ints(line.RootElement.GetProperty("indices")), Ints(items[i].GetProperty("indices")));
                Assert.Equal(Bits(line.RootElement.GetProperty("values")), Bits(items[i].GetProperty("values")));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        static int[] Ints(JsonElement a) => a.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        static int[] Bits(JsonElement a) => a.EnumerateArray().Select(x => BitConverter.SingleToInt32Bits(x.GetSingle())).ToArray();
    }

    [Fact]
    public async Task Pruning_and_formats_follow_the_library()
    {
        await using var h = await ServerHarness.StartAsync();
        var enc = ServerHarness.Encoder;
        var full = enc.EncodeDocuments([Texts[1]])[0];

        var top = ServerHarness.ParseTei(await (await h.PostAsync("/embed_sparse", new { inputs = Texts[1], role = "document", top_k = 5 })).Content.ReadAsStringAsync(), enc.Dimension)[0];
        ServerHarness.AssertBitIdentical(full.TopK(5), top);

        float threshold = full.Values.ToArray().OrderDescending().ElementAt(3);
        var pruned = ServerHarness.ParseTei(await (await h.PostAsync("/embed_sparse", new { inputs = Texts[1], role = "document", min_weight = threshold })).Content.ReadAsStringAsync(), enc.Dimension)[0];
        ServerHarness.AssertBitIdentical(full.Prune(threshold), pruned);
        Assert.Equal(4, pruned.Count);

        using var tokens = JsonDocument.Parse(await (await h.PostAsync("/embed_sparse", new { inputs = Texts[1], role = "document", top_k = 3, format = "tokens" })).Content.ReadAsStringAsync());
        var expectedTokens = enc.Decode(full, 3);
        var map = tokens.RootElement[0].GetProperty("tokens").EnumerateObject().ToArray();
        Assert.Equal(expectedTokens.Select(t => t.Token), map.Select(p => p.Name));
        Assert.Equal(expectedTokens.Select(t => t.Weight), map.Select(p => p.Value.GetSingle()));

        using var qdrant = JsonDocument.Parse(await (await h.PostAsync("/embed_sparse", new { inputs = Texts[1], role = "document", format = "qdrant" })).Content.ReadAsStringAsync());
        Assert.Equal(full.Indices.ToArray(), qdrant.RootElement[0].GetProperty("vector").GetProperty("indices").EnumerateArray().Select(x => x.GetInt32()).ToArray());

        using var es = JsonDocument.Parse(await (await h.PostAsync("/embed_sparse", new { inputs = Texts[1], role = "document", format = "elasticsearch" })).Content.ReadAsStringAsync());
        Assert.Equal(full.Count, es.RootElement[0].GetProperty("vector").EnumerateObject().Count());
    }

    [Fact]
    public async Task Truncation_follows_tei()
    {
        await using var h = await ServerHarness.StartAsync();
        var enc = ServerHarness.Encoder;
        string longText = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"word{i % 37}"));
        Assert.True(enc.Tokenizer.Encode(longText).Length > enc.MaxSeqLength);

        // truncate defaults to false: too long is TEI's Validation error (413).
        string error = await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = longText }), 413, "Validation");
        Assert.Contains($"less than {enc.MaxSeqLength} tokens", error);

        // truncate=true, Right: exactly the encoder's own truncation.
        var right = ServerHarness.ParseTei(await (await h.PostAsync("/embed_sparse", new { inputs = longText, truncate = true })).Content.ReadAsStringAsync(), enc.Dimension)[0];
        ServerHarness.AssertBitIdentical(enc.Encode([longText], new EncodeOptions { Route = "document" })[0], right);

        // Left keeps the end of the text: [CLS] + the last pieces + [SEP], encoded as such.
        var leftResponse = await h.PostAsync("/embed_sparse", new { inputs = longText, truncate = true, truncation_direction = "Left" });
        var left = ServerHarness.ParseTei(await leftResponse.Content.ReadAsStringAsync(), enc.Dimension)[0];
        int[] pieces = enc.Tokenizer.Encode(longText, int.MaxValue, addSpecialTokens: false).Ids;
        int[] ids = [enc.Tokenizer.ClsTokenId, .. pieces[^(enc.MaxSeqLength - 2)..], enc.Tokenizer.SepTokenId];
        ServerHarness.AssertBitIdentical(enc.Model.Forward([ids])[0], left);

        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = "x", truncation_direction = "middle" }), 422, "Tokenizer");
    }

    [Fact]
    public async Task Tokenize_and_decode_have_tei_shapes()
    {
        await using var h = await ServerHarness.StartAsync();
        var enc = ServerHarness.Encoder;
        string text = "  Hello wörld 😀 ok";
        var response = await h.PostAsync("/tokenize", new { inputs = new[] { text } });
        Assert.Equal(200, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var tokens = doc.RootElement[0].EnumerateArray().ToArray();
        Assert.Equal(enc.TokenIds(text), tokens.Select(t => t.GetProperty("id").GetInt32()).ToArray());
        Assert.True(tokens[0].GetProperty("special").GetBoolean());
        Assert.Equal("[CLS]", tokens[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, tokens[0].GetProperty("start").ValueKind);
        // "Hello" starts after the two leading spaces; offsets count characters (code points).
        Assert.Equal("Hello", tokens[1].GetProperty("text").GetString());
        Assert.Equal(2, tokens[1].GetProperty("start").GetInt32());
        Assert.Equal(7, tokens[1].GetProperty("stop").GetInt32());
        var emoji = tokens.Single(t => t.GetProperty("text").GetString() == "😀");
        Assert.Equal(1, emoji.GetProperty("stop").GetInt32() - emoji.GetProperty("start").GetInt32());
        var ok = tokens.Single(t => t.GetProperty("text").GetString() == "ok");
        Assert.Equal(16, ok.GetProperty("start").GetInt32());

        using var noSpecial = JsonDocument.Parse(await (await h.PostAsync("/tokenize", new { inputs = "hello", add_special_tokens = false })).Content.ReadAsStringAsync());
        Assert.Single(noSpecial.RootElement[0].EnumerateArray());

        int[] ids = enc.TokenIds("hello world");
        using var decoded = JsonDocument.Parse(await (await h.PostAsync("/decode", new { ids })).Content.ReadAsStringAsync());
        Assert.Equal(new[] { "hello world" }, decoded.RootElement.EnumerateArray().Select(x => x.GetString()!).ToArray());
        using var decodedBatch = JsonDocument.Parse(await (await h.PostAsync("/decode", new { ids = new[] { ids, ids }, skip_special_tokens = false })).Content.ReadAsStringAsync());
        Assert.Equal(enc.Tokenizer.Decode(ids, skipSpecialTokens: false), decodedBatch.RootElement[1].GetString());
        Assert.Contains("[CLS]", decodedBatch.RootElement[0].GetString());

        await ServerHarness.AssertError(await h.PostAsync("/decode", "{\"ids\": [[]]}"), 413, "Validation");
        await ServerHarness.AssertError(await h.PostAsync("/decode", "{\"ids\": []}"), 400, "Empty");
        await ServerHarness.AssertError(await h.PostAsync("/decode", "{\"ids\": [99999999]}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/decode", "{\"ids\": [\"a\"]}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/decode", "{\"ids\": [-1]}"), 422, "Tokenizer");
    }

    [Fact]
    public async Task Info_health_metrics_and_openapi()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { ModelId = "owner/tiny", MaxClientBatchSize = 7, MaxBatchTokens = 999, MaxInputLength = 64 });
        using var info = JsonDocument.Parse(await h.Client.GetStringAsync("/info"));
        var r = info.RootElement;
        Assert.Equal("owner/tiny", r.GetProperty("model_id").GetString());
        Assert.Equal("splade", r.GetProperty("model_type").GetProperty("embedding").GetProperty("pooling").GetString());
        Assert.Equal(7, r.GetProperty("max_client_batch_size").GetInt32());
        Assert.Equal(999, r.GetProperty("max_batch_tokens").GetInt32());
        Assert.Equal(64, r.GetProperty("max_input_length").GetInt32());
        Assert.Equal(512, r.GetProperty("max_concurrent_requests").GetInt32());
        foreach (string f in new[] { "model_sha", "model_dtype", "tokenization_workers", "version", "auto_truncate", "max_batch_requests" })
            Assert.True(r.TryGetProperty(f, out _), f);

        var health = await h.Client.GetAsync("/health");
        Assert.Equal(200, (int)health.StatusCode);

        await h.PostAsync("/embed_sparse", new { inputs = new[] { "a b c", "d" } });
        await h.PostAsync("/embed_sparse", "{");
        string metrics = await h.Client.GetStringAsync("/metrics");
        Assert.Contains("splade_requests_total{endpoint=\"/embed_sparse\",status=\"200\"} 1", metrics);
        Assert.Contains("splade_requests_total{endpoint=\"/embed_sparse\",status=\"400\"} 1", metrics);
        Assert.Contains("splade_request_duration_seconds_bucket{endpoint=\"/embed_sparse\",le=\"+Inf\"} 2", metrics);
        Assert.Contains("splade_batch_size_count 1", metrics);
        Assert.Contains("splade_queue_depth 0", metrics);
        Assert.Contains("splade_tokens_total 8", metrics); // [CLS] a b c [SEP] + [CLS] d [SEP]

        using var openapi = JsonDocument.Parse(await h.Client.GetStringAsync("/openapi.json"));
        var paths = openapi.RootElement.GetProperty("paths");
        foreach (string p in new[] { "/embed_sparse", "/tokenize", "/decode", "/search", "/info", "/health", "/metrics" })
            Assert.True(paths.TryGetProperty(p, out _), p);

        await ServerHarness.AssertError(await h.Client.GetAsync("/nope"), 404, "Empty");
    }

    [Fact]
    public async Task Search_returns_the_brute_force_hits()
    {
        var enc = ServerHarness.Encoder;
        var index = new BruteForceIndex();
        var docs = Texts.Select((t, i) => new IndexedDocument($"d{i}", enc.EncodeDocument(t), t)).ToArray();
        index.Upsert(docs);
        await using var h = await ServerHarness.StartAsync(new ServerOptions { Index = index });

        string query = "oestrogen produced where";
        var response = await h.PostAsync("/search", new { query, top_k = 3 });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(200 == (int)response.StatusCode, body);
        using var doc = JsonDocument.Parse(body);
        var hits = doc.RootElement.EnumerateArray().ToArray();
        var expected = index.Search(enc.EncodeQuery(query), 3);
        Assert.Equal(expected.Select(x => x.Id), hits.Select(x => x.GetProperty("id").GetString()));
        Assert.Equal(expected.Select(x => x.Score), hits.Select(x => x.GetProperty("score").GetSingle()));
        Assert.Equal(expected[0].Text, hits[0].GetProperty("text").GetString());
        Assert.Equal("d0", hits[0].GetProperty("id").GetString());

        using var batch = JsonDocument.Parse(await (await h.PostAsync("/search", new { inputs = new[] { query, Texts[1] }, top_k = 2 })).Content.ReadAsStringAsync());
        Assert.Equal(2, batch.RootElement.GetArrayLength());
        Assert.Equal("d1", batch.RootElement[1][0].GetProperty("id").GetString());
        output.WriteLine(body);
    }

    [Fact]
    public async Task Search_without_an_index_is_a_backend_error()
    {
        await using var h = await ServerHarness.StartAsync();
        string error = await ServerHarness.AssertError(await h.PostAsync("/search", new { query = "x" }), 424, "Backend");
        Assert.Contains("--index", error);
    }
}
