using System.Text.Json;
using Splade.Search;
using Splade.Server;
using Splade.Sparse;

namespace Splade.Tests.Server;

/// <summary><c>/search</c> with <c>explain</c>, and the page's files served by the endpoints.</summary>
public sealed class SearchExplainTests
{
    internal static readonly string[] Corpus =
    [
        "where is oestrogen produced in the human body",
        "The quick brown fox jumps over the lazy dog.",
        "Sparse lexical retrieval with learned expansion terms.",
        "Oestrogen is a hormone produced by the ovaries.",
        "Coffee is brewed from roasted coffee beans.",
    ];

    internal static BruteForceIndex BuildIndex(bool withText = true)
    {
        var enc = ServerHarness.Encoder;
        var index = new BruteForceIndex();
        index.Upsert(Corpus.Select((t, i) => new IndexedDocument($"doc-{i}", enc.EncodeDocument(t), withText || i > 0 ? t : null)).ToArray());
        return index;
    }

    [Fact]
    public async Task Explain_lists_each_hits_token_contributions_which_sum_to_its_score()
    {
        var enc = ServerHarness.Encoder;
        await using var h = await ServerHarness.StartAsync(new ServerOptions { Index = BuildIndex() });
        const string query = "oestrogen produced";
        var response = await h.PostAsync("/search", new { query, top_k = 5, explain = 1000 });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(200 == (int)response.StatusCode, body);
        using var doc = JsonDocument.Parse(body);
        var hits = doc.RootElement.EnumerateArray().ToArray();
        Assert.NotEmpty(hits);
        var q = enc.EncodeQuery(query);
        foreach (var hit in hits)
        {
            string text = hit.GetProperty("text").GetString()!;
            float score = hit.GetProperty("score").GetSingle();
            var explain = hit.GetProperty("explain").EnumerateArray()
                .Select(e => (Token: e.GetProperty("token").GetString()!, Weight: e.GetProperty("weight").GetSingle())).ToArray();
            // Every shared token, with its product of weights, largest first; together they make the score.
            var expected = enc.Decode(SparseEncoder.Intersection(q, enc.EncodeDocument(text)));
            Assert.Equal(expected.Select(e => e.Token), explain.Select(e => e.Token));
            Assert.Equal(expected.Select(e => e.Weight), explain.Select(e => e.Weight));
            Assert.True(explain.Zip(explain.Skip(1)).All(p => p.First.Weight >= p.Second.Weight));
            Assert.True(Math.Abs(explain.Sum(e => e.Weight) - score) <= 1e-4f * Math.Max(1f, score), $"{explain.Sum(e => e.Weight)} vs {score}");
        }
    }

    [Fact]
    public async Task Explain_keeps_the_top_k_tokens_and_is_null_for_hits_without_text()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { Index = BuildIndex(withText: false) });
        using var doc = JsonDocument.Parse(await (await h.PostAsync("/search", new { query = Corpus[0], top_k = 5, explain = 2 })).Content.ReadAsStringAsync());
        var hits = doc.RootElement.EnumerateArray().ToArray();
        var first = hits.Single(x => x.GetProperty("id").GetString() == "doc-0");
        Assert.Equal(JsonValueKind.Null, first.GetProperty("explain").ValueKind);
        foreach (var hit in hits.Where(x => x.GetProperty("id").GetString() != "doc-0"))
            Assert.InRange(hit.GetProperty("explain").GetArrayLength(), 1, 2);

        // Without explain the hits keep their shape.
        using var plain = JsonDocument.Parse(await (await h.PostAsync("/search", new { query = Corpus[0], top_k = 5 })).Content.ReadAsStringAsync());
        Assert.False(plain.RootElement[0].TryGetProperty("explain", out _));

        await ServerHarness.AssertError(await h.PostAsync("/search", new { query = "x", explain = 0 }), 422, "Tokenizer");
    }

    [Fact]
    public async Task The_page_and_its_files_are_served_and_need_no_api_key()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { ApiKey = "secret" });
        var page = await h.Client.GetAsync("/");
        Assert.Equal(200, (int)page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"query-form\"", html);
        Assert.Contains("page/app.js", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        var js = await h.Client.GetAsync("/page/app.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType!.MediaType);
        Assert.Contains("embed_sparse", await js.Content.ReadAsStringAsync());
        Assert.Equal(200, (int)(await h.Client.GetAsync("/page/app.css")).StatusCode);
        // The model routes still need the key, POST / included.
        await ServerHarness.AssertError(await h.PostAsync("/", new { inputs = "x" }), 401, "Validation");
        await ServerHarness.AssertError(await h.Client.GetAsync("/info"), 401, "Validation");
    }
}
