using System.Net.Sockets;
using System.Text;
using Splade.Server;

namespace Splade.Tests.Server;

/// <summary>
/// Clients that misbehave at the socket level (loopback only, bounded loops): idle connections, bodies
/// trickled byte by byte, disconnects mid-request and mid-response, bodies at and over the limit, a
/// flood above the concurrency limit. Valid requests keep being answered; the rest get 408, 413 or
/// 429, and no request ever ends as 500.
/// </summary>
public sealed class ServerHostileClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static async Task<(ServerHarness Harness, StringWriter Log)> StartAsync(ServerOptions options)
    {
        var log = new StringWriter();
        var h = await ServerHarness.StartAsync(options with { RequestLog = log });
        return (h, log);
    }

    private static void AssertNo500(StringWriter log)
    {
        string text;
        lock (log) text = log.ToString();
        Assert.DoesNotContain(" 500 ", text);
    }

    private static async Task<TcpClient> ConnectAsync(ServerHarness h)
    {
        var c = new TcpClient { NoDelay = true };
        await c.ConnectAsync("127.0.0.1", h.Server.Port);
        return c;
    }

    private static string Headers(string path, int contentLength) =>
        $"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n";

    /// <summary>Reads until the server closes the connection or <paramref name="within"/> passes; returns what came.</summary>
    private static async Task<(string Text, bool Closed)> ReadUntilClosedAsync(TcpClient c, TimeSpan within)
    {
        var buffer = new byte[8192];
        var sb = new StringBuilder();
        using var cts = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                int n = await c.GetStream().ReadAsync(buffer, cts.Token);
                if (n == 0) return (sb.ToString(), true);
                sb.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        catch (OperationCanceledException) { return (sb.ToString(), false); }
        catch (IOException) { return (sb.ToString(), true); }
    }

    private static async Task AssertServesAsync(ServerHarness h)
    {
        var r = await h.PostAsync("/embed_sparse", new { inputs = "still answering" }).WaitAsync(Bound);
        Assert.Equal(200, (int)r.StatusCode);
    }

    [Fact]
    public async Task Idle_connections_are_closed_after_the_keep_alive_timeout_and_do_not_block_valid_requests()
    {
        var (h, log) = await StartAsync(new ServerOptions { KeepAliveTimeout = TimeSpan.FromSeconds(1), RequestHeadersTimeout = TimeSpan.FromSeconds(1) });
        await using var _ = h;
        var idle = new List<TcpClient>();
        for (int i = 0; i < 40; i++) idle.Add(await ConnectAsync(h));
        // Half of them start a request and stop in the middle of the headers.
        for (int i = 0; i < 20; i++) await idle[i].GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /embed_sparse HTTP/1.1\r\nHost: x\r\n"));
        for (int i = 0; i < 5; i++) await AssertServesAsync(h);
        foreach (var c in idle)
        {
            var (text, closed) = await ReadUntilClosedAsync(c, TimeSpan.FromSeconds(10));
            Assert.True(closed, "an idle connection was not closed by the server");
            Assert.True(text.Length == 0 || text.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), text);
            c.Dispose();
        }
        await AssertServesAsync(h);
        AssertNo500(log);
    }

    [Fact]
    public async Task A_body_trickled_byte_by_byte_gets_408_while_others_are_served()
    {
        var (h, log) = await StartAsync(new ServerOptions { MinRequestBodyDataRate = 100, MinRequestBodyGracePeriod = TimeSpan.FromSeconds(1.5) });
        await using var _ = h;
        string body = "{\"inputs\": \"" + new string('a', 200) + "\"}";
        using var c = await ConnectAsync(h);
        var stream = c.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(Headers("/embed_sparse", body.Length)));
        string? answer = null;
        // One byte every 100 ms (10 B/s, under the 100 B/s floor): at most 60 bytes, 6 s.
        for (int i = 0; i < 60 && answer is null; i++)
        {
            try { await stream.WriteAsync(Encoding.ASCII.GetBytes(body[i].ToString())); }
            catch (IOException) { break; }   // the server closed the connection
            await Task.Delay(100);
            if (i == 5) await AssertServesAsync(h);
            if (c.Available > 0) answer = (await ReadUntilClosedAsync(c, TimeSpan.FromSeconds(2))).Text;
        }
        answer ??= (await ReadUntilClosedAsync(c, TimeSpan.FromSeconds(5))).Text;
        Assert.StartsWith("HTTP/1.1 408", answer);
        await AssertServesAsync(h);
        AssertNo500(log);
    }

    [Fact]
    public async Task Disconnects_mid_request_and_mid_response_never_end_as_500()
    {
        var (h, log) = await StartAsync(new ServerOptions { MaxClientBatchSize = 64 });
        await using var _ = h;
        string big = "{\"inputs\": [" + string.Join(',', Enumerable.Range(0, 64).Select(i => $"\"text {i} " + new string('w', 300) + "\"")) + "], \"format\": \"tokens\"}";
        for (int round = 0; round < 10; round++)
        {
            // Mid-request: promise 2000 bytes, send 50, go away (with an RST every other time).
            using (var c = await ConnectAsync(h))
            {
                await c.GetStream().WriteAsync(Encoding.ASCII.GetBytes(Headers("/embed_sparse", 2000) + big[..50]));
                if (round % 2 == 0) c.Client.LingerState = new LingerOption(true, 0);
            }
            // Mid-response: a large answer whose reader is gone before it is written.
            using (var c = await ConnectAsync(h))
            {
                await c.GetStream().WriteAsync(Encoding.UTF8.GetBytes(Headers("/embed_sparse", Encoding.UTF8.GetByteCount(big)) + big));
                if (round % 2 == 1) c.Client.LingerState = new LingerOption(true, 0);
                if (round % 3 == 0) await c.GetStream().ReadAtLeastAsync(new byte[100], 1, throwOnEndOfStream: false);   // after the first bytes of the answer
            }
            // Mid-headers.
            using (var c = await ConnectAsync(h))
                await c.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /embed_sparse HTTP/1.1\r\nContent-Le"));
        }
        await AssertServesAsync(h);
        // The requests cut off are logged as they finish; give the last ones a moment.
        for (int i = 0; i < 50 && h.Server.Metrics.InFlight > 0; i++) await Task.Delay(50);
        AssertNo500(log);
        Assert.Equal(0, h.Server.Metrics.RequestCount("/embed_sparse", 500));
    }

    [Fact]
    public async Task Bodies_at_the_limit_are_served_and_over_it_get_413()
    {
        const int Limit = 1000;
        var (h, log) = await StartAsync(new ServerOptions { PayloadLimit = Limit });
        await using var _ = h;
        string core = "{\"inputs\": \"at the limit\"}";
        string atLimit = core + new string(' ', Limit - core.Length);
        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", atLimit)).StatusCode);
        await ServerHarness.AssertError(await h.PostAsync("/embed_sparse", atLimit + " "), 413, "Validation");
        // Without a Content-Length (chunked), the limit is enforced while reading.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(atLimit + new string(' ', 5000))));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/embed_sparse") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        var response = await h.Client.SendAsync(request);
        await ServerHarness.AssertError(response, 413, "Validation");
        // A Content-Length far over the limit is refused before the body is read.
        using (var c = await ConnectAsync(h))
        {
            await c.GetStream().WriteAsync(Encoding.ASCII.GetBytes(Headers("/embed_sparse", 50_000_000)));
            var (text, _) = await ReadUntilClosedAsync(c, TimeSpan.FromSeconds(5));
            Assert.StartsWith("HTTP/1.1 413", text);
        }
        await AssertServesAsync(h);
        AssertNo500(log);
    }

    [Fact]
    public async Task A_flood_above_max_concurrent_is_shed_with_429_and_valid_requests_are_answered()
    {
        var (h, log) = await StartAsync(new ServerOptions
        {
            MaxConcurrentRequests = 4,
            BeforeForward = () => Thread.Sleep(20),
        });
        await using var _ = h;
        var flood = Enumerable.Range(0, 80).Select(i => h.PostAsync("/embed_sparse", new { inputs = $"flood {i}" })).ToArray();
        var statuses = (await Task.WhenAll(flood).WaitAsync(Bound)).Select(r => (int)r.StatusCode).ToList();
        Assert.All(statuses, s => Assert.True(s is 200 or 429, $"status {s}"));
        Assert.Contains(200, statuses);
        Assert.Contains(429, statuses);
        for (int i = 0; i < 3; i++) await AssertServesAsync(h);
        Assert.Equal(statuses.Count(s => s == 429), h.Server.Metrics.RequestCount("/embed_sparse", 429));
        AssertNo500(log);
    }
}
