using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Splade.Cli;
using Splade.Tests.Server;

namespace Splade.Tests.Cli;

/// <summary>`splade serve` runs the endpoints of MapSparseEncoderEndpoints, the page included.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_answers_embed_sparse_and_the_page_then_stops_on_cancel()
    {
        var stderr = new StringWriter();
        var context = new CliContext(TextReader.Null, TextWriter.Null, TextWriter.Synchronized(stderr));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var run = Program.RunAsync(["serve", "--model", TestData.Model("tiny-splade"), "--port", "0", "--threads", "2", "--quiet"], context, cts.Token);

        Uri? address = null;
        for (int i = 0; i < 600 && address is null && !run.IsCompleted; i++)
        {
            var m = Regex.Match(stderr.ToString(), @"listening on (http://\S+/)");
            if (m.Success) address = new Uri(m.Groups[1].Value);
            else await Task.Delay(100);
        }
        Assert.True(address is not null, "no 'listening on' line: " + stderr);
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };

        var page = await client.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var response = await client.PostAsJsonAsync("/embed_sparse", new { inputs = "where is oestrogen produced", role = "query" });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(200 == (int)response.StatusCode, body);
        var enc = ServerHarness.Encoder;
        ServerHarness.AssertBitIdentical(enc.EncodeQuery("where is oestrogen produced"), ServerHarness.ParseTei(body, enc.Dimension)[0]);
        Assert.Equal(200, (int)(await client.GetAsync("/health")).StatusCode);

        cts.Cancel();
        Assert.Equal(0, await run);
        Assert.Contains("stopped", stderr.ToString());
    }
}
