using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Splade.Search;
using Splade.Server;
using Splade.Tests.Server;

namespace Splade.Tests.Fuzz;

/// <summary>
/// Random and mutated JSON bodies to every POST route: each answer is a 200 or a 4xx carrying TEI's
/// <c>{"error", "error_type"}</c>, never a 5xx, and the server keeps serving.
/// </summary>
public sealed class ServerFuzzTests
{
    private static readonly string[] Templates =
    [
        "/embed_sparse|{\"inputs\": \"the running man\", \"truncate\": true}",
        "/embed_sparse|{\"inputs\": [\"first text\", \"second\"], \"truncation_direction\": \"Left\", \"top_k\": 5, \"min_weight\": 0.1, \"format\": \"tokens\", \"role\": \"query\"}",
        "/embed_sparse|{\"inputs\": \"a b c\", \"format\": \"elasticsearch\", \"prompt_name\": \"query\", \"truncate\": false}",
        "/tokenize|{\"inputs\": \"Hello, world! naïve café\", \"add_special_tokens\": true}",
        "/tokenize|{\"inputs\": [\"x\", \"  padded  \"], \"add_special_tokens\": false, \"role\": \"document\"}",
        "/decode|{\"ids\": [101, 7592, 1010, 2088, 102], \"skip_special_tokens\": true}",
        "/decode|{\"ids\": [[101, 102], [2088]], \"skip_special_tokens\": false}",
        "/search|{\"query\": \"running man\", \"top_k\": 3}",
        "/search|{\"inputs\": [\"cats\", \"dogs\"], \"top_k\": 2, \"role\": \"query\", \"truncate\": true}",
    ];

    [Fact]
    public async Task Mutated_bodies_get_200_or_tei_4xx_and_the_server_keeps_serving()
    {
        var index = new BruteForceIndex();
        var encoder = ServerHarness.Encoder;
        string[] texts = ["the running man", "cats and dogs", "hello world", "naïve café"];
        index.Upsert(texts.Select((t, i) => new IndexedDocument($"d{i}", encoder.EncodeDocument(t), t)).ToArray());
        await using var h = await ServerHarness.StartAsync(new ServerOptions { Index = index, MaxClientBatchSize = 8 });

        int iterations = FuzzRunner.Iterations(400), seed = 81;
        var statuses = new Dictionary<int, int>();
        for (int i = 0; i < iterations; i++)
        {
            var r = FuzzRunner.CaseRandom(seed, i);
            string[] template = Templates[r.Next(Templates.Length)].Split('|', 2);
            string route = r.Next(10) == 0 ? Templates[r.Next(Templates.Length)].Split('|')[0] : template[0];
            Mutant m = r.Next(8) == 0 ? RandomBody(r) : Mutate.Any(r, template[1]);
            string where = $"fuzz server: seed {seed}, case {i}: POST {route} {m.What} -> {FuzzRunner.Show(m.Data)}";
            var content = new ByteArrayContent(m.Data);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            HttpResponseMessage response;
            try
            {
                response = await h.Client.PostAsync(route, content, cts.Token);
            }
            catch (Exception e)
            {
                Assert.Fail($"{where}\nno answer: {e.GetType().Name}: {e.Message}");
                return;
            }
            int status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(status == 200 || status is >= 400 and < 500, $"{where}\nstatus {status}: {body}");
            if (status != 200)
            {
                try
                {
                    using var doc = JsonDocument.Parse(body);
                    Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("error").GetString()));
                    Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("error_type").GetString()));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    Assert.Fail($"{where}\nstatus {status} without a TEI error body: {body}");
                }
            }
            else
            {
                using var doc = JsonDocument.Parse(body); // a 200 is well-formed JSON
            }
        }
        Assert.True(statuses.GetValueOrDefault(200) > iterations / 20, "too few mutated bodies were accepted: " + string.Join(", ", statuses));
        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", new { inputs = "still serving" })).StatusCode);
        Assert.Equal(200, (int)(await h.PostAsync("/search", new { query = "still serving" })).StatusCode);
    }

    private static Mutant RandomBody(Random r)
    {
        switch (r.Next(3))
        {
            case 0:
            {
                var bytes = new byte[r.Next(0, 200)];
                r.NextBytes(bytes);
                return new Mutant(bytes, "random bytes");
            }
            case 1:
            {
                string text = Mutate.Text(r, 300);
                return new Mutant(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { inputs = text })), "random text");
            }
            default:
            {
                var ids = Enumerable.Range(0, r.Next(0, 20)).Select(_ => r.Next(4) == 0 ? r.Next(-5, int.MaxValue) : r.Next(0, 31000)).ToArray();
                return new Mutant(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { ids })), "random ids");
            }
        }
    }
}
