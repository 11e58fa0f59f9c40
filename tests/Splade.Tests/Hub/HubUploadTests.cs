using System.Text;
using System.Text.Json.Nodes;
using Splade.Hub;

namespace Splade.Tests.Hub;

public class HubUploadTests : IDisposable
{
    private const string Token = "hf_write_token";
    private const string RepoId = "me/tiny-trained";
    private readonly FakeHub _hub = new() { WriteToken = Token, GrantedToken = Token };
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-upload-").FullName;

    public void Dispose()
    {
        _hub.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private HubOptions Options(string? token = Token) => new()
    {
        Endpoint = _hub.Endpoint, Token = token, CacheDir = Path.Combine(_dir, "cache"),
        Timeout = TimeSpan.FromSeconds(5), RetryBaseDelay = TimeSpan.FromMilliseconds(5), MaxRetries = 1,
    };

    /// <summary>A trained-model-like folder: tiny-splade plus a model card, a checkpoint and an optimizer state that must stay home.</summary>
    private string MakeFolder()
    {
        string folder = Path.Combine(_dir, "model");
        foreach (var (path, bytes) in FakeHub.ReadFolder(TestData.Model("tiny-splade")))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, path))!);
            File.WriteAllBytes(Path.Combine(folder, path), bytes);
        }
        File.WriteAllText(Path.Combine(folder, "README.md"), "# tiny trained\n| dot_ndcg@10 | 0.5 |\n");
        File.WriteAllBytes(Path.Combine(folder, "empty.txt"), []);
        Directory.CreateDirectory(Path.Combine(folder, "checkpoint-last"));
        File.WriteAllText(Path.Combine(folder, "checkpoint-last", "trainer_state.json"), "{}");
        Directory.CreateDirectory(Path.Combine(folder, "best"));
        File.WriteAllBytes(Path.Combine(folder, "best", "model.safetensors"), [1, 2, 3]);
        return folder;
    }

    private static Dictionary<string, byte[]> Expected(string folder) =>
        FakeHub.ReadFolder(folder).Where(f => !f.Key.StartsWith("checkpoint-", StringComparison.Ordinal) && !f.Key.StartsWith("best/", StringComparison.Ordinal))
            .ToDictionary(f => f.Key, f => f.Value);

    [Fact]
    public async Task Upload_creates_the_repo_sends_lfs_to_storage_and_commits_ndjson_that_round_trips()
    {
        string folder = MakeFolder();
        using var uploader = new HubUploader(Options());
        var info = await uploader.UploadFolderAsync(RepoId, folder, new HubUploadOptions { CommitMessage = "first upload" });

        var expected = Expected(folder);
        Assert.Equal(["model.safetensors"], info.LfsFiles);
        Assert.Equal(expected.Keys.Where(k => k != "model.safetensors").Order(StringComparer.Ordinal), info.RegularFiles);
        Assert.Equal(new FileInfo(Path.Combine(folder, "model.safetensors")).Length, info.LfsBytesSent);
        Assert.Equal(_hub.Repos[RepoId].Refs["main"], info.CommitOid);

        var hubRequests = _hub.Hub.Requests.ToList();
        Assert.All(hubRequests, r => Assert.Equal($"Bearer {Token}", r.Header("Authorization")));
        var create = Assert.Single(hubRequests, r => r.Target == "/api/repos/create");
        var createBody = JsonNode.Parse(create.Body)!;
        Assert.Equal(("me", "tiny-trained", false), (createBody["organization"]!.GetValue<string>(), createBody["name"]!.GetValue<string>(), createBody["private"]!.GetValue<bool>()));

        var pre = Assert.Single(hubRequests, r => r.Target == $"/api/models/{RepoId}/preupload/main");
        var preFiles = JsonNode.Parse(pre.Body)!["files"]!.AsArray();
        Assert.Equal(expected.Count, preFiles.Count);
        var cfg = preFiles.Single(f => f!["path"]!.GetValue<string>() == "config.json")!;
        Assert.Equal(expected["config.json"].Length, cfg["size"]!.GetValue<long>());
        Assert.Equal(expected["config.json"].Take(512), Convert.FromBase64String(cfg["sample"]!.GetValue<string>()));

        var batch = Assert.Single(hubRequests, r => r.Target == $"/{RepoId}.git/info/lfs/objects/batch");
        var batchBody = JsonNode.Parse(batch.Body)!;
        Assert.Equal("upload", batchBody["operation"]!.GetValue<string>());
        Assert.Equal(FakeHub.Sha256(expected["model.safetensors"]), batchBody["objects"]![0]!["oid"]!.GetValue<string>());
        Assert.Equal([FakeHub.Sha256(expected["model.safetensors"])], _hub.Verified);

        var put = Assert.Single(_hub.Cdn.Requests);
        Assert.Equal("PUT", put.Method);
        Assert.Null(put.Header("Authorization")); // the token stays with the Hub

        var commit = Assert.Single(hubRequests, r => r.Target == $"/api/models/{RepoId}/commit/main");
        var lines = Encoding.UTF8.GetString(commit.Body).TrimEnd('\n').Split('\n').Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal("header", lines[0]["key"]!.GetValue<string>());
        Assert.Equal("first upload", lines[0]["value"]!["summary"]!.GetValue<string>());
        var lfsLine = Assert.Single(lines, l => l["key"]!.GetValue<string>() == "lfsFile");
        Assert.Equal(("model.safetensors", "sha256", (long)expected["model.safetensors"].Length),
            (lfsLine["value"]!["path"]!.GetValue<string>(), lfsLine["value"]!["algo"]!.GetValue<string>(), lfsLine["value"]!["size"]!.GetValue<long>()));
        Assert.Equal(expected.Count - 1, lines.Count(l => l["key"]!.GetValue<string>() == "file"));

        // Round trip: what the Hub now serves is the folder, minus the training leftovers.
        Assert.Equal(expected.OrderBy(k => k.Key), _hub.Repos[RepoId].Commits[info.CommitOid].OrderBy(k => k.Key));
        var loaded = SparseEncoder.Load(RepoId, new SparseEncoderOptions { Hub = Options(), Threads = 1 });
        var local = SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = 1 });
        var a = loaded.EncodeDocuments(["the capital of france is paris"])[0];
        var b = local.EncodeDocuments(["the capital of france is paris"])[0];
        Assert.Equal(b.Indices.ToArray(), a.Indices.ToArray());
        Assert.Equal(b.Values.ToArray(), a.Values.ToArray());
    }

    [Fact]
    public async Task Second_upload_keeps_the_repo_and_does_not_resend_stored_lfs_objects()
    {
        string folder = MakeFolder();
        using var uploader = new HubUploader(Options());
        var first = await uploader.UploadFolderAsync(RepoId, folder);
        File.WriteAllText(Path.Combine(folder, "README.md"), "# changed\n");
        _hub.Cdn.Requests.Clear();
        var second = await uploader.UploadFolderAsync(RepoId, folder);
        Assert.NotEqual(first.CommitOid, second.CommitOid);
        Assert.Equal(0, second.LfsBytesSent);
        Assert.Empty(_hub.Cdn.Requests);
        Assert.Equal("# changed\n", Encoding.UTF8.GetString(_hub.Repos[RepoId].Commits[second.CommitOid]["README.md"]));
        Assert.Equal(2, _hub.Repos[RepoId].Commits.Count);
    }

    [Fact]
    public async Task Large_lfs_objects_go_up_in_parts_with_a_completion_request()
    {
        _hub.MultipartChunkSize = 1_500_000;
        string folder = MakeFolder();
        long size = new FileInfo(Path.Combine(folder, "model.safetensors")).Length;
        using var uploader = new HubUploader(Options());
        var info = await uploader.UploadFolderAsync(RepoId, folder);
        Assert.Equal((int)((size + 1_499_999) / 1_500_000), _hub.Cdn.Requests.Count(r => r.Method == "PUT"));
        Assert.Single(_hub.Hub.Requests, r => r.Target.StartsWith("/lfs-complete/", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "model.safetensors")), _hub.Repos[RepoId].Commits[info.CommitOid]["model.safetensors"]);
    }

    [Fact]
    public async Task Missing_or_rejected_tokens_fail_with_a_clear_error()
    {
        Assert.Throws<HubAuthenticationException>(() => new HubUploader(Options(token: null)));
        using var uploader = new HubUploader(Options(token: "hf_wrong"));
        var e = await Assert.ThrowsAsync<HubAuthenticationException>(() => uploader.UploadFolderAsync(RepoId, MakeFolder()));
        Assert.Contains("HTTP 401", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Empty(_hub.Repos);
        await Assert.ThrowsAsync<ArgumentException>(() => uploader.UploadFolderAsync("not-a-repo-id", MakeFolder()));
    }
}
