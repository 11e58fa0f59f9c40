using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Splade.Server;
using Xunit.Abstractions;

namespace Splade.Tests.Server;

/// <summary>
/// The search page in a real browser: headless Chromium loads it from a running server, the page
/// runs a query (<c>?q=</c> fills the box and submits it), and the rendered DOM is checked against
/// the library's own answers. A screenshot is kept (SPLADE_TEST_ARTIFACTS, else artifacts/ beside
/// the test assembly). Skips when no chromium is installed.
/// </summary>
public sealed partial class SearchPageBrowserTests(ITestOutputHelper output)
{
    private const string Query = "oestrogen produced";

    [Fact]
    public async Task The_page_charts_the_expansion_and_explains_each_hit()
    {
        string? chromium = FindChromium();
        if (chromium is null)
        {
            output.WriteLine("SKIPPED: chromium not found (install Debian's chromium, or set SPLADE_CHROMIUM)");
            return;
        }
        var enc = ServerHarness.Encoder;
        var index = SearchExplainTests.BuildIndex();
        await using var h = await ServerHarness.StartAsync(new ServerOptions { Index = index });
        string url = $"{h.Server.BaseAddress}?q={Uri.EscapeDataString(Query)}";

        string dom = await DumpDomAsync(chromium, url);
        Assert.Contains("data-state=\"done\"", dom);

        // The bar chart: the query's tokens by weight, largest first (up to 40 bars).
        var q = enc.EncodeQuery(Query);
        var expectedTokens = enc.Decode(q).Take(40).ToArray();
        var bars = BarPattern().Matches(Section(dom, "<ol id=\"expansion\"")).ToArray();
        Assert.Equal(expectedTokens.Select(t => t.Token), bars.Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)));
        for (int i = 0; i < bars.Length; i++)
            Assert.Equal(expectedTokens[i].Weight, float.Parse(bars[i].Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 1e-6f);

        // The hits: the index's top 10, in order; each lists the tokens that make its score.
        var expectedHits = index.Search(q, 10);
        string results = Section(dom, "<ol id=\"results\"");
        var hits = HitPattern().Matches(results).ToArray();
        Assert.Equal(expectedHits.Select(x => x.Id), hits.Select(m => m.Groups[1].Value));
        Assert.NotEmpty(hits);
        var perHit = Regex.Split(results, "<li class=\"hit\"").Skip(1).ToArray();
        for (int i = 0; i < expectedHits.Count; i++)
        {
            var shared = enc.Decode(SparseEncoder.Intersection(q, enc.EncodeDocument(expectedHits[i].Text!)), 12).Select(t => t.Token);
            var chips = ChipPattern().Matches(perHit[i]).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value));
            Assert.Equal(shared, chips);
        }
        // The words of the best hit that match its contributing tokens are highlighted.
        Assert.Contains("<mark", perHit[0]);
        Assert.Contains("oestrogen</mark>", perHit[0], StringComparison.OrdinalIgnoreCase);

        string png = await ScreenshotAsync(chromium, url);
        output.WriteLine($"screenshot: {png}");
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.True(bytes.Length > 10_000, $"screenshot is only {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
    }

    [GeneratedRegex("<li data-token=\"([^\"]*)\" data-weight=\"([^\"]*)\"")]
    private static partial Regex BarPattern();

    [GeneratedRegex("<li class=\"hit\" data-id=\"([^\"]*)\" data-score=\"([^\"]*)\"")]
    private static partial Regex HitPattern();

    [GeneratedRegex("<li data-token=\"([^\"]*)\" data-weight=\"[^\"]*\"")]
    private static partial Regex ChipPattern();

    private static string Section(string dom, string start)
    {
        int i = dom.IndexOf(start, StringComparison.Ordinal);
        Assert.True(i >= 0, $"{start} not in the page");
        int end = dom.IndexOf("</ol>", i, StringComparison.Ordinal);
        return dom[i..end];
    }

    private static string? FindChromium()
    {
        string? env = Environment.GetEnvironmentVariable("SPLADE_CHROMIUM");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : null;
        foreach (string name in new[] { "chromium", "chromium-browser", "google-chrome" })
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    /// <summary>The DOM after the page's scripts ran: virtual time does not advance while fetches are pending.</summary>
    private async Task<string> DumpDomAsync(string chromium, string url)
    {
        string dom = "";
        foreach (int budget in new[] { 15_000, 60_000 })
        {
            dom = await RunAsync(chromium, ["--dump-dom", $"--virtual-time-budget={budget}", url]);
            if (dom.Contains("data-state=\"done\"") || dom.Contains("data-state=\"error\"")) break;
        }
        output.WriteLine(dom.Length > 4000 ? dom[..4000] + " …" : dom);
        return dom;
    }

    private async Task<string> ScreenshotAsync(string chromium, string url)
    {
        string dir = Environment.GetEnvironmentVariable("SPLADE_TEST_ARTIFACTS") is { Length: > 0 } a ? a : Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(dir);
        string png = Path.GetFullPath(Path.Combine(dir, "search-page.png"));
        File.Delete(png);
        await RunAsync(chromium, [$"--screenshot={png}", "--window-size=1280,1000", "--hide-scrollbars", "--virtual-time-budget=15000", url]);
        Assert.True(File.Exists(png), "chromium wrote no screenshot");
        return png;
    }

    private async Task<string> RunAsync(string chromium, string[] args)
    {
        string profile = Path.Combine(Path.GetTempPath(), "splade-chromium-" + Guid.NewGuid().ToString("N"));
        var psi = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking", "--disable-component-update", $"--user-data-dir={profile}" })
            psi.ArgumentList.Add(a);
        foreach (string a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try { await p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish in 120 s: {await stderr}");
            }
            if (p.ExitCode != 0) output.WriteLine($"chromium exited {p.ExitCode}: {await stderr}");
            return await stdout;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
