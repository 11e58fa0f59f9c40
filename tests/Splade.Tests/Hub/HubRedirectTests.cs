using System.Diagnostics;
using System.Text.Json;
using Splade.Hub;
using Splade.Tests.Cli;
using Xunit.Abstractions;

namespace Splade.Tests.Hub;

/// <summary>
/// Redirects by the rule of huggingface_hub: the metadata HEAD follows relative redirects only (a renamed
/// repository) and otherwise reads X-Repo-Commit / X-Linked-Etag / X-Linked-Size from the redirect itself; the
/// download GET follows the Location; the token never reaches another host.
/// </summary>
public class HubRedirectTests(ITestOutputHelper output)
{
    private const string OldName = "acme/old-splade";

    [Theory]
    [InlineData("/acme/tiny-splade/resolve/main/x", true)]
    [InlineData("acme/tiny-splade/resolve/main/x", true)]
    [InlineData("/api/resolve-cache/models/acme/x?sig=1", true)]
    [InlineData("http://127.0.0.1:5000/cdn/abc", false)]
    [InlineData("https://cdn-lfs.hf.co/repos/ab/cd?X-Amz=1", false)]
    [InlineData("//cdn.example.org/blob", false)]
    [InlineData("http:/no-host/path", true)]   // urlparse finds no network location here either
    public void Relative_means_no_network_location_as_urlparse_says(string location, bool relative) =>
        Assert.Equal(relative, HubRedirects.IsRelative(location));

    [Fact]
    public void Following_a_relative_redirect_keeps_scheme_host_and_query_and_takes_the_path()
    {
        var current = new Uri("http://127.0.0.1:8080/old/name/resolve/main/a.json?x=1");
        Assert.Equal("http://127.0.0.1:8080/new/name/resolve/main/a.json?x=1",
            HubRedirects.FollowRelative(current, "/new/name/resolve/main/a.json?ignored=2").AbsoluteUri);
        Assert.Equal("http://127.0.0.1:8080/new/a.json?x=1", HubRedirects.FollowRelative(current, "new/a.json").AbsoluteUri);
    }

    [Fact]
    public async Task Renamed_repository_relative_redirect_is_followed_with_token_and_cached_under_the_requested_name()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.Renames[OldName] = HubTestContext.RepoId;

        string folder = await ModelLocator.ResolveAsync(OldName, ctx.Options(token: "hf_secret"));

        Assert.Equal(Path.Combine(ctx.CacheDir, "models--acme--old-splade", "snapshots", ctx.Commit), folder);
        foreach (var (path, bytes) in ctx.Files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(folder, path)));
        var hub = ctx.Hub.Hub.Requests.ToArray();
        // Every request first asked for the old name and was sent on to the new one.
        Assert.Contains(hub, r => r.Method == "HEAD" && r.Target.StartsWith($"/{OldName}/resolve/", StringComparison.Ordinal));
        Assert.Equal(hub.Count(r => r.Method == "HEAD" && r.Target.StartsWith($"/{OldName}/", StringComparison.Ordinal)),
            hub.Count(r => r.Method == "HEAD" && r.Target.StartsWith($"/{HubTestContext.RepoId}/", StringComparison.Ordinal)));
        Assert.Contains(hub, r => r.Target.StartsWith($"/api/models/{HubTestContext.RepoId}/revision/", StringComparison.Ordinal));
        Assert.All(hub, r => Assert.Equal("Bearer hf_secret", r.Header("Authorization")));
        // The LFS file still comes from the CDN host, without the token, and the HEAD never went there.
        var cdn = Assert.Single(ctx.Hub.Cdn.Requests);
        Assert.Equal("GET", cdn.Method);
        Assert.Null(cdn.Header("Authorization"));
    }

    [Fact]
    public async Task Absolute_redirect_to_another_host_ends_the_head_and_the_token_stays_off_even_when_the_cdn_redirects_back()
    {
        using var ctx = new HubTestContext();
        byte[] weights = ctx.Files["model.safetensors"];
        string sha = FakeHub.Sha256(weights);
        // The CDN sends the download on to the endpoint's own /cdn/ path: the token must not come back on it.
        ctx.Hub.CdnIntercept = r => r.Target.StartsWith("/repos/", StringComparison.Ordinal)
            ? new CannedResponse { Status = 302, Headers = { ["Location"] = $"{ctx.Hub.Endpoint}/cdn/{sha}" } }
            : null;
        using var client = new HubClient(ctx.Options(token: "hf_secret"));

        var metadata = await client.GetFileMetadataAsync(ModelReference.Parse(HubTestContext.RepoId), "model.safetensors");
        Assert.StartsWith(ctx.Hub.Cdn.BaseUrl + "/repos/" + sha, metadata.Location);
        Assert.Equal((ctx.Commit, sha, (long?)weights.Length, sha), (metadata.Commit, metadata.ETag, metadata.Size, metadata.Sha256));
        Assert.Empty(ctx.Hub.Cdn.Requests);   // the HEAD stopped at the 302

        string local = await client.DownloadFileAsync(ModelReference.Parse(HubTestContext.RepoId), "model.safetensors");

        Assert.Equal(weights, File.ReadAllBytes(local));
        Assert.All(ctx.Hub.Cdn.Requests, r => Assert.Equal(("GET", (string?)null), (r.Method, r.Header("Authorization"))));
        var back = Assert.Single(ctx.Hub.Hub.Requests, r => r.Target.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.Null(back.Header("Authorization"));
        Assert.All(ctx.Hub.Hub.Requests.Where(r => r.Target.Contains("/resolve/")), r => Assert.Equal("Bearer hf_secret", r.Header("Authorization")));
    }

    [Fact]
    public async Task Same_host_mirror_headers_come_from_the_302_and_blobs_from_its_cdn_path()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.MirrorBlobsOnSameHost = true;

        string folder = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(token: "hf_secret"));

        foreach (var (path, bytes) in ctx.Files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(folder, path)));
        string sha = FakeHub.Sha256(ctx.Files["model.safetensors"]);
        Assert.Equal($"../../blobs/{sha}", new FileInfo(Path.Combine(folder, "model.safetensors")).LinkTarget);
        var hub = ctx.Hub.Hub.Requests.ToArray();
        // The HEAD did not follow the absolute redirect (the /cdn/ answer has no X-Repo-Commit); the GET did.
        var blob = Assert.Single(hub, r => r.Target.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.Equal(("GET", $"/cdn/{sha}"), (blob.Method, blob.Target));
        // Same host as the endpoint: the token goes along, as huggingface_hub sends it.
        Assert.All(hub, r => Assert.Equal("Bearer hf_secret", r.Header("Authorization")));
        Assert.Empty(ctx.Hub.Cdn.Requests);
    }

    [Fact]
    public async Task Same_host_absolute_redirect_without_hub_headers_fails_naming_the_redirect_and_is_not_followed()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.HubIntercept = r => r.Target.EndsWith("/resolve/main/vocab.txt", StringComparison.Ordinal)
            ? new CannedResponse { Status = 302, Headers = { ["Location"] = $"{ctx.Hub.Endpoint}/elsewhere/vocab.txt" } }
            : null;
        using var client = new HubClient(ctx.Options());

        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(ModelReference.Parse(HubTestContext.RepoId), "vocab.txt"));

        Assert.Contains("X-Repo-Commit", e.Message);
        Assert.Contains("HTTP 302 redirect", e.Message);
        Assert.DoesNotContain(ctx.Hub.Hub.Requests, r => r.Target.StartsWith("/elsewhere/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cli_encode_with_model_id_through_HF_ENDPOINT_downloads_from_a_renamed_repo_on_a_mirror()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Splade.Cli.dll");
        if (!File.Exists(cli)) { output.WriteLine($"SKIPPED: {cli} not built beside the tests"); return; }
        using var ctx = new HubTestContext();
        ctx.Hub.MirrorBlobsOnSameHost = true;
        ctx.Hub.Renames[OldName] = HubTestContext.RepoId;
        string input = Path.Combine(ctx.CacheDir, "input.jsonl");
        File.WriteAllLines(input, new[] { "where is oestrogen produced", "the cat purrs on the mat" }
            .Select((t, i) => JsonSerializer.Serialize(new { id = $"d{i}", text = t })));

        var psi = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { cli, "encode", "--model", OldName, "--input", input, "--threads", "1" }) psi.ArgumentList.Add(a);
        psi.Environment["HF_ENDPOINT"] = ctx.Hub.Endpoint;
        psi.Environment["HF_HUB_CACHE"] = Path.Combine(ctx.CacheDir, "hub");
        psi.Environment["HF_TOKEN"] = "hf_secret";
        foreach (string v in new[] { "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_DOWNLOAD_TIMEOUT" }) psi.Environment.Remove(v);
        using var p = Process.Start(psi)!;
        var stdoutTask = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        string stdout = await stdoutTask;
        await p.WaitForExitAsync();
        output.WriteLine(stderr.Trim());

        Assert.True(p.ExitCode == 0, stderr);
        Assert.Contains("model.safetensors", stderr);
        var (code, expected, err) = await CliRunner.RunAsync("encode", "--model", TestData.Model("tiny-splade"), "--input", input, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Equal(expected, stdout);
        Assert.True(File.Exists(Path.Combine(ctx.CacheDir, "hub", "models--acme--old-splade", "snapshots", ctx.Commit, "model.safetensors")));
        Assert.Single(ctx.Hub.Hub.Requests, r => r.Method == "GET" && r.Target.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.All(ctx.Hub.Hub.Requests, r => Assert.Equal("Bearer hf_secret", r.Header("Authorization")));
        Assert.Empty(ctx.Hub.Cdn.Requests);
    }
}
