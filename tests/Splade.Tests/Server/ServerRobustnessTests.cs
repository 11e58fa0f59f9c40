using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Splade.Server;

namespace Splade.Tests.Server;

/// <summary>Bad input, limits, auth, overload, batching and shutdown: the server answers every case and keeps serving.</summary>
public sealed class ServerRobustnessTests
{
    [Fact]
    public async Task Malformed_bodies_get_tei_errors_and_the_server_keeps_serving()
    {
        await using var h = await ServerHarness.StartAsync();
        // Not JSON / truncated JSON / not an object / wrong types / missing field.
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "not json"), 400, "Empty");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": [\"a\""), 400, "Empty");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", ""), 400, "Empty");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "[\"a\"]"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": 5}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": [\"a\", 5]}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": [[\"a\"]]}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"input\": \"a\"}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": \"a\", \"truncate\": \"yes\"}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": \"a\", \"top_k\": -1}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": \"a\", \"top_k\": 1.5}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": \"a\", \"format\": \"xml\"}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": \"a\", \"role\": \"boss\"}"), 422, "Tokenizer");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", "{\"inputs\": \"a\", \"prompt_name\": \"nope\"}"), 413, "Validation");
        await ServerHarness.AssertError(await h.PostAsync("/tokenize", "{\"inputs\": {}}"), 422, "Tokenizer");
        // Deeply nested JSON is refused by the parser's depth limit, not by a stack overflow.
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new string('[', 5000) + new string(']', 5000)), 400, "Empty");

        // Invalid UTF-8 bytes in a string value.
        var bytes = new ByteArrayContent([.. "{\"inputs\": \""u8.ToArray(), 0xC3, 0x28, 0xFF, .. "\"}"u8.ToArray()]);
        bytes.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        string error = await ServerHarness.AssertError(await h.Client.PostAsync("/embed_sparse", bytes), 400, "Empty");
        Assert.Contains("UTF-8", error);

        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", new { inputs = "still alive" })).StatusCode);
    }

    [Fact]
    public async Task Empty_inputs_follow_tei()
    {
        await using var h = await ServerHarness.StartAsync();
        // TEI: an empty list is "Empty" (400); an empty string is a "Validation" error (413).
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = Array.Empty<string>() }), 400, "Empty");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = "" }), 413, "Validation");
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = new[] { "a", "" } }), 413, "Validation");
        await ServerHarness.AssertError(await h.PostAsync("/tokenize", new { inputs = Array.Empty<string>() }), 400, "Empty");
        // Whitespace is not empty: it encodes as [CLS] [SEP] like the library.
        var ws = await h.PostAsync("/embed_sparse", new { inputs = "   " });
        Assert.Equal(200, (int)ws.StatusCode);
    }

    [Fact]
    public async Task Limits_answer_413_with_tei_error_types()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { MaxClientBatchSize = 4, PayloadLimit = 100_000, MaxInputLength = 16 });
        string error = await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = Enumerable.Repeat("x", 5).ToArray() }), 413, "Validation");
        Assert.Equal("batch size 5 > maximum allowed batch size 4", error);
        await ServerHarness.AssertError(await h.PostAsync("/tokenize", new { inputs = Enumerable.Repeat("x", 5).ToArray() }), 413, "Validation");
        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", new { inputs = Enumerable.Repeat("x", 4).ToArray() })).StatusCode);

        // A body over the payload limit, with and without Content-Length.
        string huge = new('a', 200_000);
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = huge }), 413, "Validation");
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { inputs = huge }))));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var req = new HttpRequestMessage(HttpMethod.Post, "/embed_sparse") { Content = chunked };
        req.Headers.TransferEncodingChunked = true;
        await ServerHarness.AssertError(await h.Client.SendAsync(req), 413, "Validation");

        // Inputs over 250 characters per allowed token are refused before tokenizing, unless truncated.
        string tooManyChars = string.Join(' ', Enumerable.Repeat("ab", 16 * 250 / 3 + 10));
        error = await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = tooManyChars }), 413, "Validation");
        Assert.Contains("characters", error);
        var truncated = await h.PostAsync("/embed_sparse", new { inputs = tooManyChars, truncate = true });
        Assert.Equal(200, (int)truncated.StatusCode);
        // Under the character limit but over 16 tokens.
        error = await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = string.Join(' ', Enumerable.Repeat("word", 20)) }), 413, "Validation");
        Assert.Equal("`inputs` must have less than 16 tokens. Given: 22", error);
        Assert.Equal(200, (int)(await h.Client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Api_key_is_required_except_for_health()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { ApiKey = "s3cret" });
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = "a" }), 401, "Validation");
        await ServerHarness.AssertError(await h.Client.GetAsync("/info"), 401, "Validation");
        await ServerHarness.AssertError(await h.Client.GetAsync("/metrics"), 401, "Validation");
        Assert.Equal(200, (int)(await h.Client.GetAsync("/health")).StatusCode);

        var wrong = new HttpRequestMessage(HttpMethod.Get, "/info");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cre");
        await ServerHarness.AssertError(await h.Client.SendAsync(wrong), 401, "Validation");

        h.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", new { inputs = "a" })).StatusCode);
        Assert.Equal(200, (int)(await h.Client.GetAsync("/info")).StatusCode);
    }

    [Fact]
    public async Task Over_the_concurrency_limit_is_429_while_a_slow_request_runs()
    {
        using var gate = new ManualResetEventSlim(false);
        using var entered = new SemaphoreSlim(0);
        await using var h = await ServerHarness.StartAsync(new ServerOptions
        {
            MaxConcurrentRequests = 1,
            BeforeForward = () => { entered.Release(); gate.Wait(TimeSpan.FromSeconds(30)); },
        });
        var slow = h.PostAsync("/embed_sparse", new { inputs = "slow request" });
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)), "the first request never reached the model");

        string error = await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", new { inputs = "second" }), 429, "Overloaded");
        Assert.Equal("Model is overloaded", error);
        // Routes that do not run the model stay available.
        Assert.Equal(200, (int)(await h.PostAsync("/tokenize", new { inputs = "x" })).StatusCode);

        gate.Set();
        Assert.Equal(200, (int)(await slow).StatusCode);
        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", new { inputs = "third" })).StatusCode);
        Assert.Equal(1, h.Server.Metrics.RequestCount("/embed_sparse", 429));
    }

    [Fact]
    public async Task Concurrent_requests_are_merged_into_fewer_forward_passes_with_identical_vectors()
    {
        using var gate = new ManualResetEventSlim(false);
        using var entered = new SemaphoreSlim(0);
        await using var h = await ServerHarness.StartAsync(new ServerOptions
        {
            BeforeForward = () => { entered.Release(); gate.Wait(TimeSpan.FromSeconds(30)); },
        });
        var enc = ServerHarness.Encoder;
        // The first request occupies the batcher; the next 12 queue up meanwhile and go together.
        var first = h.PostAsync("/embed_sparse", new { inputs = "first" });
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)));
        string[] texts = Enumerable.Range(0, 12).Select(i => $"request number {i} with {new string('x', i)} tokens").ToArray();
        var queued = texts.Select(t => h.PostAsync("/embed_sparse", new { inputs = t })).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (h.Server.Metrics.InFlight < 13 && DateTime.UtcNow < deadline) await Task.Delay(10);
        gate.Set();
        Assert.Equal(200, (int)(await first).StatusCode);
        for (int i = 0; i < texts.Length; i++)
        {
            var response = await queued[i];
            Assert.Equal(200, (int)response.StatusCode);
            var v = ServerHarness.ParseTei(await response.Content.ReadAsStringAsync(), enc.Dimension)[0];
            ServerHarness.AssertBitIdentical(enc.Encode([texts[i]], new EncodeOptions())[0], v);
        }
        Assert.Equal(2, h.Server.Metrics.ForwardPasses);
    }

    [Fact]
    public async Task Batches_respect_the_token_budget_and_request_cap()
    {
        await using var h = await ServerHarness.StartAsync(new ServerOptions { MaxBatchTokens = 10, MaxClientBatchSize = 64 });
        var enc = ServerHarness.Encoder;
        string[] texts = Enumerable.Range(0, 9).Select(i => $"w{i} x").ToArray(); // 4-5 tokens each: at most 2 per pass
        var response = await h.PostAsync("/embed_sparse", new { inputs = texts });
        var got = ServerHarness.ParseTei(await response.Content.ReadAsStringAsync(), enc.Dimension);
        var expected = enc.Encode(texts, new EncodeOptions());
        for (int i = 0; i < texts.Length; i++) ServerHarness.AssertBitIdentical(expected[i], got[i]);
        Assert.True(h.Server.Metrics.ForwardPasses >= 5, $"{h.Server.Metrics.ForwardPasses} passes");

        await using var one = await ServerHarness.StartAsync(new ServerOptions { MaxBatchRequests = 1 });
        await one.PostAsync("/embed_sparse", new { inputs = texts });
        Assert.Equal(texts.Length, one.Server.Metrics.ForwardPasses);
    }

    [Fact]
    public async Task Shutdown_finishes_requests_in_flight()
    {
        using var gate = new ManualResetEventSlim(false);
        using var entered = new SemaphoreSlim(0);
        var h = await ServerHarness.StartAsync(new ServerOptions
        {
            BeforeForward = () => { entered.Release(); gate.Wait(TimeSpan.FromSeconds(30)); },
        });
        var inFlight = h.PostAsync("/embed_sparse", new { inputs = "in flight during shutdown" });
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)));
        var stopping = h.Server.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "shutdown did not wait for the request in flight");
        gate.Set();
        var response = await inFlight;
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Single(ServerHarness.ParseTei(await response.Content.ReadAsStringAsync(), ServerHarness.Encoder.Dimension));
        await stopping;
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => h.Client.GetAsync("/health"));
        await h.DisposeAsync();
    }
}
