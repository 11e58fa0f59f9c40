using System.Net;
using System.Net.Sockets;
using Splade.Hub;

namespace Splade.Tests.Hub;

public class HubFailureTests
{
    private static readonly ModelReference Tiny = ModelReference.Parse(HubTestContext.RepoId);

    [Fact]
    public async Task PartialIncomplete_IsResumedWithRange()
    {
        using var ctx = new HubTestContext();
        byte[] weights = ctx.Files["model.safetensors"];
        string sha = FakeHub.Sha256(weights);
        string incomplete = Path.Combine(ctx.RepoFolder, "blobs", sha + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        File.WriteAllBytes(incomplete, weights[..1000]);

        using var client = new HubClient(ctx.Options());
        string local = await client.DownloadFileAsync(Tiny, "model.safetensors");

        var get = Assert.Single(ctx.Hub.Cdn.Requests);
        Assert.Equal("bytes=1000-", get.Header("Range"));
        Assert.Equal(weights, File.ReadAllBytes(local));
        Assert.False(File.Exists(incomplete));
    }

    [Fact]
    public async Task TruncatedBody_IsResumedFromWhereItBroke()
    {
        using var ctx = new HubTestContext();
        byte[] weights = ctx.Files["model.safetensors"];
        int calls = 0;
        ctx.Hub.CdnIntercept = r =>
        {
            if (Interlocked.Increment(ref calls) > 1) return null;
            var whole = FakeHub.Ranged(r, weights);
            return new CannedResponse { Status = whole.Status, Headers = whole.Headers, Body = whole.Body, SendOnly = 300_000 };
        };
        using var client = new HubClient(ctx.Options());
        var progress = new ListProgress<long>();

        string local = await client.DownloadFileAsync(Tiny, "model.safetensors", progress);

        Assert.Equal(weights, File.ReadAllBytes(local));
        var requests = ctx.Hub.Cdn.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Null(requests[0].Header("Range"));
        long resumedAt = long.Parse(requests[1].Header("Range")!["bytes=".Length..^1]);
        Assert.InRange(resumedAt, 1, 300_000);
        Assert.Equal(weights.Length, progress.Items[^1]);
    }

    [Fact]
    public async Task Sha256Mismatch_IsDetected_AndNothingIsCached()
    {
        using var ctx = new HubTestContext();
        byte[] corrupt = (byte[])ctx.Files["model.safetensors"].Clone();
        corrupt[corrupt.Length / 2] ^= 0xFF;
        ctx.Hub.CdnIntercept = r => FakeHub.Ranged(r, corrupt);
        using var client = new HubClient(ctx.Options());

        var e = await Assert.ThrowsAsync<HubIntegrityException>(() => client.DownloadFileAsync(Tiny, "model.safetensors"));

        string sha = FakeHub.Sha256(ctx.Files["model.safetensors"]);
        Assert.Contains(sha, e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(ctx.RepoFolder, "blobs")));
        Assert.False(File.Exists(Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit, "model.safetensors")));
    }

    [Fact]
    public async Task UnknownRepo_Is401RepoNotFound()
    {
        using var ctx = new HubTestContext();
        var e = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => ModelLocator.ResolveAsync("acme/nope", ctx.Options()));
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        Assert.Equal("RepoNotFound", e.ErrorCode);
        Assert.Contains("acme/nope", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Single(ctx.Hub.Hub.Requests); // errors of this kind are not retried
    }

    [Fact]
    public async Task MissingFile_Is404EntryNotFound_AndRememberedInNoExist()
    {
        using var ctx = new HubTestContext();
        using var client = new HubClient(ctx.Options());

        var e = await Assert.ThrowsAsync<EntryNotFoundException>(() => client.DownloadFileAsync(Tiny, "1_SpladePooling/missing.json"));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("1_SpladePooling/missing.json", e.Message);
        Assert.True(File.Exists(Path.Combine(ctx.RepoFolder, ".no_exist", ctx.Commit, "1_SpladePooling", "missing.json")));
        Assert.Equal(ctx.Commit, File.ReadAllText(Path.Combine(ctx.RepoFolder, "refs", "main")));

        // Known missing at a pinned commit, and offline: answered from the cache.
        ctx.ClearRequests();
        await Assert.ThrowsAsync<EntryNotFoundException>(() =>
            client.DownloadFileAsync(Tiny with { Revision = ctx.Commit }, "1_SpladePooling/missing.json"));
        using var offline = new HubClient(ctx.Options(offline: true));
        await Assert.ThrowsAsync<EntryNotFoundException>(() => offline.DownloadFileAsync(Tiny, "1_SpladePooling/missing.json"));
        Assert.Empty(ctx.Hub.Hub.Requests);
    }

    [Fact]
    public async Task UnknownRevision_Is404RevisionNotFound()
    {
        using var ctx = new HubTestContext();
        var e = await Assert.ThrowsAsync<RevisionNotFoundException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId + "@v2.0", ctx.Options()));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        Assert.Contains("'v2.0'", e.Message);
        Assert.False(Directory.Exists(Path.Combine(ctx.RepoFolder, "refs")));
    }

    [Fact]
    public async Task GatedRepo_Is403Gated()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.Repos[HubTestContext.RepoId].Gated = true;
        ctx.Hub.GrantedToken = "hf_right";
        var e = await Assert.ThrowsAsync<GatedRepositoryException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(token: "hf_wrong")));
        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Contains("gated", e.Message);
    }

    [Fact]
    public async Task Forbidden_WithoutCode_IsAuthenticationError()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.HubIntercept = _ => FakeHub.Error(403, null, "Forbidden");
        await Assert.ThrowsAsync<HubAuthenticationException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(token: "hf_x")));
    }

    [Fact]
    public async Task RejectedToken_IsAuthenticationError()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.HubIntercept = _ => FakeHub.Error(401, null, "Invalid credentials in Authorization header");
        var e = await Assert.ThrowsAsync<HubAuthenticationException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options(token: "hf_bad")));
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
    }

    [Fact]
    public async Task StalledBody_TimesOut_AndResumes()
    {
        using var ctx = new HubTestContext();
        byte[] weights = ctx.Files["model.safetensors"];
        int calls = 0;
        ctx.Hub.CdnIntercept = r =>
        {
            if (Interlocked.Increment(ref calls) > 1) return null;
            var whole = FakeHub.Ranged(r, weights);
            return new CannedResponse { Status = whole.Status, Headers = whole.Headers, Body = whole.Body, DelayBeforeBody = TimeSpan.FromSeconds(3) };
        };
        using var client = new HubClient(ctx.Options() with { Timeout = TimeSpan.FromMilliseconds(300) });

        string local = await client.DownloadFileAsync(Tiny, "model.safetensors");

        Assert.Equal(weights, File.ReadAllBytes(local));
        Assert.Equal(2, ctx.Hub.Cdn.Requests.Count);
    }

    [Fact]
    public async Task SilentServer_IsNetworkError_AfterRetries()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.HubIntercept = _ => new CannedResponse { DelayBeforeHeaders = TimeSpan.FromSeconds(3) };
        var options = ctx.Options() with { Timeout = TimeSpan.FromMilliseconds(200), MaxRetries = 1 };

        var e = await Assert.ThrowsAsync<HubNetworkException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId, options));

        Assert.Contains("no answer within", e.Message);
        Assert.Contains("/api/models/acme/tiny-splade/revision/main", e.Message);
        Assert.Equal(2, ctx.Hub.Hub.Requests.Count);
    }

    [Fact]
    public async Task ServerError_IsRetried_ThenSucceeds()
    {
        using var ctx = new HubTestContext();
        int failures = 0;
        ctx.Hub.HubIntercept = r => r.Method == "HEAD" && r.Target.EndsWith("/vocab.txt", StringComparison.Ordinal) && Interlocked.Increment(ref failures) <= 2
            ? FakeHub.Error(500, null, "Internal Error") : null;

        string folder = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());

        Assert.Equal(ctx.Files["vocab.txt"], File.ReadAllBytes(Path.Combine(folder, "vocab.txt")));
        Assert.Equal(3, ctx.Hub.Hub.Requests.Count(r => r.Method == "HEAD" && r.Target.EndsWith("/vocab.txt", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ServerError_PersistingAfterRetries_Fails()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.HubIntercept = _ => FakeHub.Error(503, null, "Service Unavailable");

        var e = await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.Contains("503", e.Message);
        Assert.Equal(3, ctx.Hub.Hub.Requests.Count); // 1 + MaxRetries (2)
    }

    [Fact]
    public async Task ConnectionRefused_IsNetworkError_NamingTheUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        string cache = Path.Combine(Path.GetTempPath(), "splade-hub-tests", Guid.NewGuid().ToString("N"));
        var options = new HubOptions { Endpoint = $"http://127.0.0.1:{port}", CacheDir = cache, MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(5) };

        var e = await Assert.ThrowsAsync<HubNetworkException>(() => ModelLocator.ResolveAsync("acme/tiny-splade", options));

        Assert.Contains($"http://127.0.0.1:{port}/api/models/acme/tiny-splade/revision/main", e.Message);
        Assert.Equal($"http://127.0.0.1:{port}/api/models/acme/tiny-splade/revision/main", e.Url);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public async Task HubUnreachable_FallsBackToCachedSnapshot()
    {
        using var ctx = new HubTestContext();
        string folder = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());
        ctx.Hub.HubIntercept = _ => FakeHub.Error(502, null, "Bad Gateway");

        Assert.Equal(folder, await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options()));
        // Not in the cache: the failure surfaces.
        await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync(HubTestContext.RepoId + "@dev", ctx.Options()));
    }

    [Fact]
    public async Task BlobLock_HeldByAnother_TimesOutWithClearMessage()
    {
        using var ctx = new HubTestContext();
        string lockPath = Path.Combine(ctx.CacheDir, ".locks", "models--acme--tiny-splade", FakeHub.GitBlobSha1(ctx.Files["vocab.txt"]) + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using var client = new HubClient(ctx.Options() with { LockTimeout = TimeSpan.FromMilliseconds(300) });

        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(Tiny, "vocab.txt"));
            Assert.Contains(lockPath, e.Message);
        }
        // Released: the download goes through.
        Assert.Equal(ctx.Files["vocab.txt"], File.ReadAllBytes(await client.DownloadFileAsync(Tiny, "vocab.txt")));
    }

    [Fact]
    public async Task ConcurrentDownloads_OfOneRepo_ShareBlobsSafely()
    {
        using var ctx = new HubTestContext();
        var tasks = Enumerable.Range(0, 3).Select(_ => Task.Run(() => ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options()))).ToArray();
        var folders = await Task.WhenAll(tasks);
        Assert.All(folders, f => Assert.Equal(folders[0], f));
        Assert.Equal(ctx.Files["model.safetensors"], File.ReadAllBytes(Path.Combine(folders[0], "model.safetensors")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(ctx.RepoFolder, "blobs"), "*.incomplete"));
    }

    [Fact]
    public async Task DanglingSnapshotLink_IsRepaired()
    {
        using var ctx = new HubTestContext();
        string folder = await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());
        File.Delete(Path.Combine(ctx.RepoFolder, "blobs", FakeHub.GitBlobSha1(ctx.Files["config.json"])));
        ctx.ClearRequests();

        await ModelLocator.ResolveAsync(HubTestContext.RepoId, ctx.Options());

        Assert.Equal(ctx.Files["config.json"], File.ReadAllBytes(Path.Combine(folder, "config.json")));
        Assert.Single(ctx.Hub.Hub.Requests, r => r.Method == "GET" && r.Target.EndsWith("/config.json", StringComparison.Ordinal) && !r.Target.Contains("1_Splade"));
    }

    [Fact]
    public async Task SameHostRedirect_IsFollowed_WithToken()
    {
        using var ctx = new HubTestContext();
        byte[] vocab = ctx.Files["vocab.txt"];
        ctx.Hub.HubIntercept = r =>
        {
            if (r.Target == $"/acme/tiny-splade/resolve/main/vocab.txt")
                return new CannedResponse { Status = 307, Headers = { ["Location"] = $"/api/resolve-cache/models/acme/tiny-splade/{ctx.Commit}/vocab.txt" } };
            if (r.Target.StartsWith("/api/resolve-cache/", StringComparison.Ordinal))
            {
                var ok = FakeHub.Ranged(r, vocab);
                ok.Headers["X-Repo-Commit"] = ctx.Commit;
                ok.Headers["ETag"] = $"\"{FakeHub.GitBlobSha1(vocab)}\"";
                return ok;
            }
            return null;
        };
        using var client = new HubClient(ctx.Options(token: "hf_t"));

        string local = await client.DownloadFileAsync(Tiny, "vocab.txt");

        Assert.Equal(vocab, File.ReadAllBytes(local));
        Assert.Equal(Path.Combine(ctx.RepoFolder, "snapshots", ctx.Commit, "vocab.txt"), local);
        var cached = ctx.Hub.Hub.Requests.Where(r => r.Target.StartsWith("/api/resolve-cache/", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["HEAD", "GET"], cached.Select(r => r.Method));
        Assert.All(cached, r => Assert.Equal("Bearer hf_t", r.Header("Authorization")));
    }

    [Fact]
    public async Task WithoutSymlinks_SnapshotHoldsCopies()
    {
        using var ctx = new HubTestContext();
        using var client = new HubClient(ctx.Options());
        client.Cache.UseSymlinks = false;

        string local = await client.DownloadFileAsync(Tiny, "1_SpladePooling/config.json");

        Assert.Null(new FileInfo(local).LinkTarget);
        Assert.Equal(ctx.Files["1_SpladePooling/config.json"], File.ReadAllBytes(local));
        Assert.True(File.Exists(Path.Combine(ctx.RepoFolder, "blobs", FakeHub.GitBlobSha1(ctx.Files["1_SpladePooling/config.json"]))));
    }

    [Fact]
    public async Task PathsLeavingTheSnapshot_AreRefused()
    {
        using var ctx = new HubTestContext();
        ctx.Hub.AddRepo("acme/evil", new Dictionary<string, byte[]> { ["../../escape.json"] = "{}"u8.ToArray(), ["model.safetensors"] = [0] });
        await Assert.ThrowsAsync<HubException>(() => ModelLocator.ResolveAsync("acme/evil", ctx.Options()));
        Assert.False(File.Exists(Path.Combine(ctx.CacheDir, "escape.json")));
    }
}
