using System.Text;
using System.Text.Json;
using Splade.Search;
using Splade.Server;
using Splade.Sparse;

namespace Splade.Tests.Server;

/// <summary>Starts a real Kestrel server on a free loopback port, in process, with an HttpClient bound to it.</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private static readonly Lazy<SparseEncoder> TinyEncoder = new(() =>
        SparseEncoder.Load(TestData.Model("tiny-splade"), new SparseEncoderOptions { Threads = 2 }));

    private ServerHarness(SpladeServer server, HttpClient client)
    {
        Server = server;
        Client = client;
    }

    /// <summary>The tiny test model, loaded once for every server test.</summary>
    public static SparseEncoder Encoder => TinyEncoder.Value;

    public SpladeServer Server { get; }
    public HttpClient Client { get; }

    public static async Task<ServerHarness> StartAsync(ServerOptions? options = null)
    {
        options ??= new ServerOptions();
        var server = SpladeServer.Create(Encoder, options with { Port = 0 });
        await server.StartAsync();
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        return new ServerHarness(server, client);
    }

    /// <summary>POSTs a JSON string body as-is (so malformed JSON can be sent too).</summary>
    public Task<HttpResponseMessage> PostAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PostAsync(string path, object body) => PostAsync(path, JsonSerializer.Serialize(body));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Reads a TEI error body and checks its status and error_type.</summary>
    public static async Task<string> AssertError(HttpResponseMessage response, int status, string errorType)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(errorType, doc.RootElement.GetProperty("error_type").GetString());
        string error = doc.RootElement.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    /// <summary>Parses TEI's [[{"index", "value"}]] into vectors.</summary>
    public static SparseVector[] ParseTei(string json, int dimension)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray().Select(list =>
        {
            var pairs = list.EnumerateArray().Select(p => (p.GetProperty("index").GetInt32(), p.GetProperty("value").GetSingle())).ToArray();
            return new SparseVector(dimension, pairs.Select(p => p.Item1).ToArray(), pairs.Select(p => p.Item2).ToArray());
        }).ToArray();
    }

    /// <summary>Asserts identical indices and bit-identical float values.</summary>
    public static void AssertBitIdentical(SparseVector expected, SparseVector actual)
    {
        Assert.Equal(expected.Indices.ToArray(), actual.Indices.ToArray());
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(expected.Values[i]), BitConverter.SingleToInt32Bits(actual.Values[i]));
    }
}

/// <summary>A brute-force <see cref="ISparseIndex"/>: scores every document (the exact reference).</summary>
internal sealed class BruteForceIndex : ISparseIndex
{
    private readonly Dictionary<string, IndexedDocument> _docs = new(StringComparer.Ordinal);

    public long Count => _docs.Count;

    public void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default)
    {
        foreach (var d in documents) _docs[d.Id] = d;
    }

    public bool Delete(string id) => _docs.Remove(id);

    public void Commit() { }

    public IReadOnlyList<SearchHit> Search(SparseVector query, int topK, CancellationToken cancellationToken = default) =>
        _docs.Values.Select(d => new SearchHit(d.Id, query.Dot(d.Vector), d.Text))
            .Where(h => h.Score > 0)
            .OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal)
            .Take(topK).ToArray();

    public void Dispose() { }
}
