using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Splade.Tests.Hub;

/// <summary>
/// The write side of the fake Hub, shaped like huggingface.co's: repository creation, preupload (LFS for
/// <c>*.safetensors</c>), the Git LFS batch API with upload URLs on the CDN server (single PUT, or parts and a
/// completion POST for objects larger than <see cref="MultipartChunkSize"/>), verify, and the NDJSON commit API.
/// Committed files become downloadable through the read side. Every malformed request is answered 400 with the reason.
/// </summary>
internal sealed partial class FakeHub
{
    /// <summary>When set, write requests must bear this token (401 otherwise).</summary>
    public string? WriteToken { get; set; }

    /// <summary>LFS objects larger than this are uploaded in parts of this size (null: always one PUT).</summary>
    public long? MultipartChunkSize { get; set; }

    /// <summary>LFS objects stored, by sha256.</summary>
    public Dictionary<string, byte[]> LfsObjects { get; } = new();

    /// <summary>Oids the verify action was called for.</summary>
    public List<string> Verified { get; } = new();

    private readonly Dictionary<string, SortedDictionary<int, byte[]>> _parts = new();

    private CannedResponse? ServeUpload(RecordedRequest r)
    {
        if (r.Method != "POST") return null;
        var segments = r.Target.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        bool create = segments is ["api", "repos", "create"];
        bool preupload = segments is ["api", "models", _, _, "preupload", _];
        bool commit = segments is ["api", "models", _, _, "commit", _];
        bool batch = segments is [_, _, "info", "lfs", "objects", "batch"] && segments[1].EndsWith(".git", StringComparison.Ordinal);
        bool verify = segments is [_, _, "info", "lfs", "objects", "verify"];
        bool complete = segments is ["lfs-complete", _];
        if (!(create || preupload || commit || batch || verify || complete)) return null;
        if (WriteToken is not null && !complete && r.Header("Authorization") != $"Bearer {WriteToken}")
            return Error(401, null, "Invalid credentials in Authorization header");
        try
        {
            lock (LfsObjects)
            {
                if (create) return CreateRepo(r);
                if (preupload) return Preupload(r, $"{segments[2]}/{segments[3]}");
                if (batch) return Batch(r, $"{segments[0]}/{segments[1][..^4]}");
                if (verify) return Verify(r);
                if (complete) return Complete(r, segments[1]);
                return Commit(r, $"{segments[2]}/{segments[3]}", segments[5]);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or NullReferenceException)
        {
            return Error(400, null, $"Bad request: {e.Message}");
        }
    }

    private CannedResponse CreateRepo(RecordedRequest r)
    {
        RequireContentType(r, "application/json");
        var body = JsonNode.Parse(r.Body)!.AsObject();
        string id = $"{body["organization"]!.GetValue<string>()}/{body["name"]!.GetValue<string>()}";
        if (Repos.ContainsKey(id)) return Error(409, null, "You already created this model repo");
        Repos[id] = new FakeRepo();
        return Json(new JsonObject { ["url"] = $"{Endpoint}/{id}" });
    }

    private CannedResponse Preupload(RecordedRequest r, string repoId)
    {
        if (!Repos.ContainsKey(repoId)) return Error(404, "RepoNotFound", "Repository not found");
        RequireContentType(r, "application/json");
        var files = new JsonArray();
        foreach (var f in JsonNode.Parse(r.Body)!["files"]!.AsArray())
        {
            string path = f!["path"]!.GetValue<string>();
            long size = f["size"]!.GetValue<long>();
            byte[] sample = Convert.FromBase64String(f["sample"]!.GetValue<string>());
            if (sample.Length != Math.Min(512, size)) throw new InvalidOperationException($"sample of '{path}' has {sample.Length} bytes for a file of {size}.");
            files.Add(new JsonObject { ["path"] = path, ["uploadMode"] = IsLfs(path) ? "lfs" : "regular", ["shouldIgnore"] = false });
        }
        return Json(new JsonObject { ["files"] = files });
    }

    private CannedResponse Batch(RecordedRequest r, string repoId)
    {
        if (!Repos.ContainsKey(repoId)) return Error(404, "RepoNotFound", "Repository not found");
        RequireContentType(r, "application/vnd.git-lfs+json");
        if (r.Header("Accept") != "application/vnd.git-lfs+json") throw new InvalidOperationException("Accept must be application/vnd.git-lfs+json.");
        var body = JsonNode.Parse(r.Body)!;
        if (body["operation"]!.GetValue<string>() != "upload" || body["hash_algo"]?.GetValue<string>() is not (null or "sha256"))
            throw new InvalidOperationException("expected operation upload with sha256 oids.");
        var objects = new JsonArray();
        foreach (var o in body["objects"]!.AsArray())
        {
            string oid = o!["oid"]!.GetValue<string>();
            long size = o["size"]!.GetValue<long>();
            var answer = new JsonObject { ["oid"] = oid, ["size"] = size };
            if (!LfsObjects.ContainsKey(oid))
            {
                var verify = new JsonObject { ["href"] = $"{Endpoint}/{repoId}.git/info/lfs/objects/verify", ["header"] = new JsonObject { ["X-Verify"] = oid } };
                JsonObject upload;
                if (MultipartChunkSize is long chunk && size > chunk)
                {
                    var header = new JsonObject { ["chunk_size"] = chunk.ToString() };
                    for (int i = 1; (i - 1) * chunk < size; i++) header[i.ToString("D5")] = $"{Cdn.BaseUrl}/part/{oid}/{i}";
                    upload = new JsonObject { ["href"] = $"{Endpoint}/lfs-complete/{oid}", ["header"] = header };
                }
                else upload = new JsonObject { ["href"] = $"{Cdn.BaseUrl}/upload/{oid}?X-Amz-Signature=abc", ["header"] = new JsonObject() };
                answer["actions"] = new JsonObject { ["upload"] = upload, ["verify"] = verify };
            }
            objects.Add(answer);
        }
        return Json(new JsonObject { ["transfer"] = "basic", ["objects"] = objects });
    }

    private CannedResponse Verify(RecordedRequest r)
    {
        var body = JsonNode.Parse(r.Body)!;
        string oid = body["oid"]!.GetValue<string>();
        if (r.Header("X-Verify") != oid) throw new InvalidOperationException("the verify action's header was not sent.");
        if (!LfsObjects.TryGetValue(oid, out var content) || content.Length != body["size"]!.GetValue<long>())
            return Error(404, null, $"Object {oid} was not uploaded");
        Verified.Add(oid);
        return Json(new JsonObject { ["success"] = true });
    }

    private CannedResponse Complete(RecordedRequest r, string oid)
    {
        var body = JsonNode.Parse(r.Body)!;
        if (body["oid"]!.GetValue<string>() != oid || !_parts.TryGetValue(oid, out var parts)) throw new InvalidOperationException($"no parts for {oid}.");
        var given = body["parts"]!.AsArray().Select(p => (N: p!["partNumber"]!.GetValue<int>(), Etag: p["etag"]!.GetValue<string>())).ToList();
        if (!given.Select(g => g.N).SequenceEqual(parts.Keys) || given.Any(g => g.Etag.Trim('"') != $"etag-{oid[..8]}-{g.N}"))
            throw new InvalidOperationException("parts or etags do not match what was uploaded.");
        byte[] content = parts.Values.SelectMany(p => p).ToArray();
        if (Sha256(content) != oid) return Error(400, null, "assembled object does not match its oid");
        LfsObjects[oid] = content;
        return Json(new JsonObject { ["success"] = true });
    }

    private CannedResponse Commit(RecordedRequest r, string repoId, string revision)
    {
        if (!Repos.TryGetValue(repoId, out var repo)) return Error(404, "RepoNotFound", "Repository not found");
        RequireContentType(r, "application/x-ndjson");
        var lines = Encoding.UTF8.GetString(r.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        if (lines.Count == 0 || lines[0]["key"]!.GetValue<string>() != "header" || lines[0]["value"]!["summary"] is null)
            throw new InvalidOperationException("the first NDJSON line must be the header with a summary.");
        var files = repo.Resolve(revision) is { } parent ? new Dictionary<string, byte[]>(repo.Commits[parent]) : new Dictionary<string, byte[]>();
        foreach (var line in lines.Skip(1))
        {
            var v = line["value"]!;
            string path = v["path"]!.GetValue<string>();
            switch (line["key"]!.GetValue<string>())
            {
                case "file":
                    if (v["encoding"]!.GetValue<string>() != "base64") throw new InvalidOperationException("file content must be base64.");
                    files[path] = Convert.FromBase64String(v["content"]!.GetValue<string>());
                    break;
                case "lfsFile":
                    string oid = v["oid"]!.GetValue<string>();
                    if (v["algo"]!.GetValue<string>() != "sha256") throw new InvalidOperationException("lfsFile algo must be sha256.");
                    if (!LfsObjects.TryGetValue(oid, out var content)) return Error(422, null, $"LFS object {oid} for '{path}' was never uploaded");
                    if (v["size"] is { } size && size.GetValue<long>() != content.Length) throw new InvalidOperationException($"size of '{path}' does not match its object.");
                    files[path] = content;
                    break;
                default:
                    throw new InvalidOperationException($"unknown NDJSON key '{line["key"]}'.");
            }
        }
        string commit = repo.AddCommit(files, revision);
        return Json(new JsonObject { ["success"] = true, ["commitOid"] = commit, ["commitUrl"] = $"{Endpoint}/{repoId}/commit/{commit}" });
    }

    /// <summary>The storage side: single-PUT uploads and parts; the token must never reach it.</summary>
    private CannedResponse? ServeUploadCdn(RecordedRequest r)
    {
        if (r.Method != "PUT") return null;
        if (r.Header("Authorization") is not null) return Error(400, null, "The storage must not receive the Hub token");
        var segments = r.Target.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        lock (LfsObjects)
        {
            if (segments is ["upload", var oid])
            {
                if (Sha256(r.Body) != oid) return Error(400, null, "BadDigest");
                LfsObjects[oid] = r.Body;
                return new CannedResponse { Headers = { ["ETag"] = $"\"{oid[..8]}\"" } };
            }
            if (segments is ["part", var partOid, var n])
            {
                if (!_parts.TryGetValue(partOid, out var parts)) _parts[partOid] = parts = new SortedDictionary<int, byte[]>();
                parts[int.Parse(n)] = r.Body;
                return new CannedResponse { Headers = { ["ETag"] = $"\"etag-{partOid[..8]}-{n}\"" } };
            }
        }
        return Error(404, null, "NoSuchKey");
    }

    private static void RequireContentType(RecordedRequest r, string type)
    {
        if (r.Header("Content-Type")?.Split(';')[0].Trim() != type)
            throw new InvalidOperationException($"Content-Type must be {type}, got '{r.Header("Content-Type")}'.");
    }

    private static CannedResponse Json(JsonNode node) =>
        new() { Headers = { ["Content-Type"] = "application/json" }, Body = Encoding.UTF8.GetBytes(node.ToJsonString()) };
}
