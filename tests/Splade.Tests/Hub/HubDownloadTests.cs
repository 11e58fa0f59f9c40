using Splade.Hub;
using Xunit.Abstractions;

namespace Splade.Tests.Hub;

public class HubDownloadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FreshDownload_WritesPythonCacheLayout()
    {
        using var ctx = new HubTestContext();
        var progress = new ListProgress<HubDownloadProgress>();

        string folder = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(), progress);

        Assert.Equal(Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit), folder);
        Assert.Equal(ctx.Commit, File.ReadAllText(Path.Combine(ctx.RepoFolder, "refs", "main"))); // no trailing newline, like Python
        foreach (var (path, bytes) in ctx.Files)
        {
            string pointer = Path.Combine(folder, path.Replace('/', Path.DirectorySeparatorChar));
            string etag = FakeHub.IsLfs(path) ? FakeHub.Sha256(bytes) : FakeHub.GitBlobSha1(bytes);
            string depth = string.Concat(Enumerable.Repeat("../", path.Count(c => c == '/')));
            Assert.Equal($"{depth}../../blobs/{etag}", new FileInfo(pointer).LinkTarget);
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(ctx.RepoFolder, "blobs", etag)));
            Assert.Equal(bytes, File.ReadAllBytes(pointer));
        }
        // Only what a sparse encoder needs; no exports, no pickles, no leftovers.
        var snapshotFiles = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')).Order().ToArray();
        Assert.Equal(ctx.Files.Keys.Order().ToArray(), snapshotFiles);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(ctx.RepoFolder, "blobs"), "*.incomplete"));
        Assert.Equal(ctx.Files.Count, Directory.EnumerateFiles(Path.Combine(ctx.RepoFolder, "blobs")).Count());
        Assert.True(File.Exists(Path.Combine(ctx.CacheDir, ".locks", "models--acme--tiny-splade", FakeHub.Sha256(ctx.Files["model.safetensors"]) + ".lock")));

        // Requests: 1 listing, then per file one HEAD and one GET (the LFS GET goes to the CDN only).
        var hub = ctx.Hub.Hub.Requests.ToArray();
        Assert.Single(hub, r => r.Target.StartsWith("/api/models/acme/tiny-splade/revision/main", StringComparison.Ordinal));
        Assert.Equal(ctx.Files.Count, hub.Count(r => r.Method == "HEAD"));
        Assert.Equal(ctx.Files.Count - 1, hub.Count(r => r.Method == "GET" && r.Target.Contains("/resolve/")));
        Assert.All(hub.Where(r => r.Target.Contains("/resolve/")), r => Assert.Contains($"/resolve/{ctx.Commit}/", r.Target));
        var cdn = Assert.Single(ctx.Hub.Cdn.Requests);
        Assert.Equal("GET", cdn.Method);

        // Progress: every file reported, ending complete.
        Assert.Equal(ctx.Files.Keys.Order(), progress.Items.Select(p => p.File).Distinct().Order());
        var last = progress.Items.Last(p => p.File == "model.safetensors");
        Assert.Equal(ctx.Files["model.safetensors"].Length, last.BytesDone);
        Assert.Equal(ctx.Files["model.safetensors"].Length, last.BytesTotal);
        Assert.All(progress.Items, p => Assert.Equal(ctx.Files.Count, p.FileCount));
        Assert.DoesNotContain(progress.Items, p => p.FromCache);
    }

    [Fact]
    public async Task SecondResolve_IsServedFromCache_WithOneListingRequest()
    {
        using var ctx = new HubTestContext();
        string first = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());
        ctx.ClearRequests();

        var progress = new ListProgress<HubDownloadProgress>();
        string second = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(), progress);

        Assert.Equal(first, second);
        var request = Assert.Single(ctx.Hub.Hub.Requests);
        Assert.StartsWith("/api/models/acme/tiny-splade/revision/main", request.Target);
        Assert.Empty(ctx.Hub.Cdn.Requests);
        // Every file reported once, complete and marked as served from the cache.
        Assert.Equal(ctx.Files.Count, progress.Items.Count);
        Assert.All(progress.Items, p => { Assert.True(p.FromCache); Assert.Equal(p.BytesTotal, p.BytesDone); });
    }

    [Fact]
    public async Task Offline_ServesCachedSnapshot_WithoutAnyRequest()
    {
        using var ctx = new HubTestContext();
        string online = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());
        ctx.ClearRequests();

        string offline = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(offline: true));
        using var client = new HubClient(ctx.Options(offline: true));
        string vocab = await client.DownloadFileAsync(ModelReference.Parse(HubTestContext.RepoId), "vocab.txt");

        Assert.Equal(online, offline);
        Assert.Equal(ctx.Files["vocab.txt"], File.ReadAllBytes(vocab));
        Assert.Empty(ctx.Hub.Hub.Requests);
        Assert.Empty(ctx.Hub.Cdn.Requests);
    }

    [Fact]
    public async Task Offline_CacheMiss_NamesRepoRevisionFileAndOfflineMode()
    {
        using var ctx = new HubTestContext();
        var miss = await Assert.ThrowsAsync<OfflineCacheMissException>(() =>
            ModelLocator.ResolveAsync(HubTestContext.RepoId + "@dev", ctx.Options(offline: true)));
        Assert.Contains("acme/tiny-splade@dev", miss.Message);
        Assert.Contains("HF_HUB_OFFLINE", miss.Message);
        Assert.Equal("dev", miss.Revision);

        // With the revision cached, a missing file is named.
        await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());
        using var client = new HubClient(ctx.Options(offline: true));
        var fileMiss = await Assert.ThrowsAsync<OfflineCacheMissException>(() =>
            client.DownloadFileAsync(ModelReference.Parse(HubTestContext.RepoId), "pytorch_model.bin"));
        Assert.Equal("pytorch_model.bin", fileMiss.File);
        Assert.Contains("'pytorch_model.bin'", fileMiss.Message);
        Assert.DoesNotContain(ctx.Hub.Hub.Requests, r => r.Target.Contains("pytorch_model.bin"));
    }

    [Fact]
    public async Task Token_GoesToHubOnly_NeverToCdn()
    {
        using var ctx = new HubTestContext();
        await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(token: "hf_secret"));

        Assert.NotEmpty(ctx.Hub.Hub.Requests);
        Assert.All(ctx.Hub.Hub.Requests, r => Assert.Equal("Bearer hf_secret", r.Header("Authorization")));
        Assert.NotEmpty(ctx.Hub.Cdn.Requests);
        Assert.All(ctx.Hub.Cdn.Requests, r => Assert.Null(r.Header("Authorization")));
    }

    [Fact]
    public async Task Token_FromEnvironmentDictionary_OpensGatedRepo()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.Repos[HubTestContext.RepoId].Gated = true;
        ctx.Hub.GrantedToken = "hf_granted";
        var env = new Dictionary<string, string?> { ["HF_ENDPOINT"] = ctx.Hub.Endpoint + "/", ["HF_TOKEN"] = "hf_granted", ["HF_HUB_CACHE"] = ctx.CacheDir };
        var options = HubOptions.FromEnvironment(env) with { RetryBaseDelay = TimeSpan.FromMilliseconds(5) };

        string folder = await ModelLocator.ResolveAsync(HubTestContext.RepoId, options);

        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
    }

    [Fact]
    public async Task Revision_AsBranch_WritesRef_AsCommit_WritesNone()
    {
        using var ctx = new HubTestContext(withExtras: false);
        var devFiles = new Dictionary<string, byte[]>(ctx.Files) { ["config.json"] = "{\"dev\": true}"u8.ToArray() };
        string dev = ctx.Hub.AddRepo(HubTestContext.RepoId, devFiles, branch: "dev");
        Assert.NotEqual(ctx.Commit, dev);

        string devFolder = await ModelLocator.ResolveAsync(HubTestContext.RepoId + "@dev", ctx.Options());
        Assert.Equal(Path.Combine(ctx.RepoFolder, "snapshots", dev), devFolder);
        Assert.Equal(dev, File.ReadAllText(Path.Combine(ctx.RepoFolder, "refs", "dev")));
        Assert.Equal("{\"dev\": true}", File.ReadAllText(Path.Combine(devFolder, "config.json")));
        // Unchanged files share blobs: only config.json made a new one.
        Assert.Equal(ctx.Files.Count, Directory.EnumerateFiles(Path.Combine(ctx.RepoFolder, "blobs")).Count());

        ctx.ClearRequests();
        string pinned = await ModelLocator.ResolveAsync($"{HubTestContext.RepoId}@{ctx.Commit}", ctx.Options());
        Assert.Equal(Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit), pinned);
        Assert.Equal(["dev"], Directory.GetFiles(Path.Combine(ctx.RepoFolder, "refs")).Select(Path.GetFileName));
        Assert.Contains(ctx.Hub.Hub.Requests, r => r.Target.EndsWith($"/revision/{ctx.Commit}", StringComparison.Ordinal));
        // Blobs of the first commit were already there (shared with dev) except the original config.json.
        Assert.Single(ctx.Hub.Hub.Requests, r => r.Method == "GET" && r.Target.Contains("/resolve/"));
        Assert.Empty(ctx.Hub.Cdn.Requests);

        // A commit-pinned file already cached needs no request at all.
        ctx.ClearRequests();
        using var client = new HubClient(ctx.Options());
        await client.DownloadFileAsync(new ModelReference("acme", "tiny-splade", ctx.Commit), "config.json");
        Assert.Empty(ctx.Hub.Hub.Requests);
    }

    [Fact]
    public async Task PythonBuiltCache_IsReused_OnlineWithOneRequest_OfflineWithNone()
    {
        using var ctx = new HubTestContext(withExtras: false);
        // Lay the cache out by hand exactly as huggingface_hub leaves it.
        foreach (var (path, bytes) in ctx.Files)
        {
            string etag = FakeHub.IsLfs(path) ? FakeHub.Sha256(bytes) : FakeHub.GitBlobSha1(bytes);
            string blob = Path.Combine(ctx.RepoFolder, "blobs", etag);
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            File.WriteAllBytes(blob, bytes);
            string pointer = Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit, path);
            Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob));
        }
        Directory.CreateDirectory(Path.Combine(ctx.RepoFolder, "refs"));
        File.WriteAllText(Path.Combine(ctx.RepoFolder, "refs", "main"), ctx.Commit);

        string offline = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(offline: true));
        Assert.Empty(ctx.Hub.Hub.Requests);
        string online = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());

        Assert.Equal(Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit), offline);
        Assert.Equal(offline, online);
        Assert.Single(ctx.Hub.Hub.Requests);
        Assert.Empty(ctx.Hub.Cdn.Requests);
    }

    [Fact]
    public async Task ExistingFolder_IsReturnedAsIs_WithoutNetwork()
    {
        string dir = TestData.Model("tiny-splade");
        var options = new HubOptions { Endpoint = "http://127.0.0.1:9", CacheDir = Path.GetTempPath(), MaxRetries = 0 };
        Assert.Equal(dir, await ModelLocator.ResolveAsync(dir, options));
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => ModelLocator.ResolveAsync("./no/such/model/folder", options));
        await Assert.ThrowsAsync<ArgumentException>(() => ModelLocator.ResolveAsync("not a model", options));
    }

    [Fact]
    public async Task SafetensorsMissing_WithPytorchBin_FailsWithClearMessage()
    {
        using var ctx = new HubTestContext(withExtras: false);
        ctx.Hub.AddRepo("acme/old-model", new Dictionary<string, byte[]>
        {
            ["config.json"] = "{}"u8.ToArray(),
            ["pytorch_model.bin"] = [1, 2, 3],
            ["vocab.txt"] = "[PAD]\n"u8.ToArray(),
        });
        var e = await Assert.ThrowsAsync<UnsupportedWeightsException>(() => ModelLocator.ResolveAsync("acme/old-model", ctx.Options()));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.DoesNotContain(ctx.Hub.Hub.Requests, r => r.Target.Contains("/resolve/"));
    }

    [Fact]
    public async Task CliDownload_PrintsFolder_AndProgressOnStderr()
    {
        using var ctx = new HubTestContext();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var cli = new Splade.Cli.CliContext(TextReader.Null, stdout, stderr);

        int rc = await Splade.Cli.Program.RunAsync(
            ["download", "--model", HubTestContext.RepoId, "--cache-dir", ctx.CacheDir, "--endpoint", ctx.Hub.Endpoint], cli, default);

        output.WriteLine(stderr.ToString());
        Assert.True(rc == 0, stderr.ToString());
        Assert.Equal(Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit), stdout.ToString().Trim());
        Assert.Contains("model.safetensors", stderr.ToString());
        Assert.Contains($"/{ctx.Files.Count}]", stderr.ToString());

        // Offline, unknown revision: exit 1 with the reason on stderr.
        var err2 = new StringWriter();
        rc = await Splade.Cli.Program.RunAsync(
            ["download", "--model", HubTestContext.RepoId + "@v9", "--cache-dir", ctx.CacheDir, "--offline"],
            new Splade.Cli.CliContext(TextReader.Null, new StringWriter(), err2), default);
        Assert.Equal(1, rc);
        Assert.Contains("HF_HUB_OFFLINE", err2.ToString());
    }
}
