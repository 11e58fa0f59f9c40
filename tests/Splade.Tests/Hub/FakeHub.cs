using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Splade.Tests.Hub;

/// <summary>One repository of the fake Hub: commits (path → bytes) and named refs (branches, tags).</summary>
internal sealed class FakeRepo
{
    public Dictionary<string, Dictionary<string, byte[]>> Commits { get; } = new();
    public Dictionary<string, string> Refs { get; } = new();
    public bool Gated { get; set; }

    /// <summary>Adds a commit and points <paramref name="branch"/> at it; the sha is derived from the content.</summary>
    public string AddCommit(IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.UTF8.GetBytes(branch + Commits.Count));
        foreach (var (path, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            sha1.AppendData(Encoding.UTF8.GetBytes(path));
            sha1.AppendData(bytes);
        }
        string commit = Convert.ToHexStringLower(sha1.GetHashAndReset());
        Commits[commit] = new Dictionary<string, byte[]>(files);
        Refs[branch] = commit;
        return commit;
    }

    public string? Resolve(string revision) =>
        Refs.TryGetValue(revision, out var c) ? c : Commits.ContainsKey(revision) ? revision : null;
}

/// <summary>
/// Answers like huggingface.co: the revision API, HEAD/GET on resolve URLs with X-Repo-Commit / ETag, LFS files
/// (<c>*.safetensors</c>) as a 302 to a second server acting as the CDN with X-Linked-Etag / X-Linked-Size, errors
/// with X-Error-Code. Both servers listen on 127.0.0.1 only. <see cref="HubIntercept"/> / <see cref="CdnIntercept"/>
/// may answer a request instead (fault injection).
/// <see cref="Renames"/> makes a repository answer under its old name with a relative 307 to the new one, as the
/// Hub does for a renamed repository; <see cref="MirrorBlobsOnSameHost"/> turns it into a self-hosted mirror that
/// serves LFS blobs from its own <c>/cdn/{sha256}</c> path (an absolute 302 to the same host, the X-* headers on
/// the 302 only, none on the blob answer).
/// </summary>
internal sealed partial class FakeHub : IDisposable
{
    public FakeHub()
    {
        Cdn = new MiniHttpServer(r => CdnIntercept?.Invoke(r) ?? ServeUploadCdn(r) ?? ServeCdn(r));
        Hub = new MiniHttpServer(r => HubIntercept?.Invoke(r) ?? ServeUpload(r) ?? ServeHub(r));
    }

    public MiniHttpServer Hub { get; }
    public MiniHttpServer Cdn { get; }
    public string Endpoint => Hub.BaseUrl;
    public Dictionary<string, FakeRepo> Repos { get; } = new();

    /// <summary>When set, gated repositories open to requests bearing this token.</summary>
    public string? GrantedToken { get; set; }

    /// <summary>Old repository id → new one: requests under the old name get a relative 307 to the new name.</summary>
    public Dictionary<string, string> Renames { get; } = new();

    /// <summary>LFS files redirect to <c>{Hub}/cdn/{sha256}</c> on the Hub's own host instead of the CDN server.</summary>
    public bool MirrorBlobsOnSameHost { get; set; }

    public Func<RecordedRequest, CannedResponse?>? HubIntercept { get; set; }
    public Func<RecordedRequest, CannedResponse?>? CdnIntercept { get; set; }

    /// <summary>Adds repository <paramref name="repoId"/> with one commit on <paramref name="branch"/>; returns the commit.</summary>
    public string AddRepo(string repoId, IReadOnlyDictionary<string, byte[]> files, string branch = "main")
    {
        if (!Repos.TryGetValue(repoId, out var repo)) Repos[repoId] = repo = new FakeRepo();
        return repo.AddCommit(files, branch);
    }

    /// <summary>Every file below <paramref name="dir"/>, keyed by '/'-separated relative path.</summary>
    public static Dictionary<string, byte[]> ReadFolder(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes);

    public static bool IsLfs(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal);

    public static string GitBlobSha1(byte[] content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private readonly Dictionary<string, byte[]> _cdnBlobs = new();

    private CannedResponse ServeHub(RecordedRequest r)
    {
        var segments = r.Target.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (Renamed(r.Target) is { } moved)
            return new CannedResponse { Status = 307, Headers = { ["Location"] = moved }, Body = Encoding.ASCII.GetBytes("Temporary Redirect. Redirecting to " + moved) };
        // /cdn/{sha256} on the Hub's own host (mirror mode): the blob only, no Hub headers.
        if (segments.Length == 2 && segments[0] == "cdn" && r.Method is "GET" or "HEAD")
        {
            byte[]? blob;
            lock (_cdnBlobs) _cdnBlobs.TryGetValue(segments[1], out blob);
            return blob is null ? Error(404, null, "NoSuchKey") : Ranged(r, blob);
        }
        // /api/models/{owner}/{name}/revision/{rev}
        if (segments.Length == 6 && segments[0] == "api" && segments[1] == "models" && segments[4] == "revision" && r.Method == "GET")
        {
            var (repo, error) = Access($"{segments[2]}/{segments[3]}", r);
            if (error is not null) return error;
            string? commit = repo!.Resolve(segments[5]);
            if (commit is null) return Error(404, "RevisionNotFound", $"Invalid rev id: {segments[5]}");
            var json = JsonSerializer.Serialize(new
            {
                id = $"{segments[2]}/{segments[3]}",
                sha = commit,
                siblings = repo.Commits[commit].Keys.Order(StringComparer.Ordinal).Select(k => new { rfilename = k }).ToArray(),
            });
            return new CannedResponse { Headers = { ["Content-Type"] = "application/json" }, Body = Encoding.UTF8.GetBytes(json) };
        }
        // /{owner}/{name}/resolve/{rev}/{path...}
        if (segments.Length >= 5 && segments[2] == "resolve" && r.Method is "GET" or "HEAD")
        {
            var (repo, error) = Access($"{segments[0]}/{segments[1]}", r);
            if (error is not null) return error;
            string? commit = repo!.Resolve(segments[3]);
            if (commit is null) return Error(404, "RevisionNotFound", $"Invalid rev id: {segments[3]}");
            string path = string.Join('/', segments.Skip(4));
            if (!repo.Commits[commit].TryGetValue(path, out var content))
            {
                var missing = Error(404, "EntryNotFound", "Entry not found");
                missing.Headers["X-Repo-Commit"] = commit;
                return missing;
            }
            if (IsLfs(path))
            {
                string sha = Sha256(content);
                lock (_cdnBlobs) _cdnBlobs[sha] = content;
                return new CannedResponse
                {
                    Status = 302,
                    Headers =
                    {
                        ["Location"] = MirrorBlobsOnSameHost ? $"{Hub.BaseUrl}/cdn/{sha}" : $"{Cdn.BaseUrl}/repos/{sha}?X-Signature=abc",
                        ["X-Repo-Commit"] = commit,
                        ["X-Linked-Etag"] = $"\"{sha}\"",
                        ["X-Linked-Size"] = content.Length.ToString(),
                        ["ETag"] = $"\"{GitBlobSha1(Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1"))}\"",
                    },
                    Body = Encoding.ASCII.GetBytes("Found. Redirecting to the CDN"),
                };
            }
            var ok = Ranged(r, content);
            ok.Headers["X-Repo-Commit"] = commit;
            ok.Headers["ETag"] = $"\"{GitBlobSha1(content)}\"";
            return ok;
        }
        return Error(404, null, "Not found");
    }

    /// <summary>The target with a renamed repository's old id replaced by the new one; null when nothing is renamed.</summary>
    private string? Renamed(string target)
    {
        foreach (var (from, to) in Renames)
        {
            if (target.StartsWith($"/{from}/", StringComparison.Ordinal)) return $"/{to}/" + target[(from.Length + 2)..];
            if (target.StartsWith($"/api/models/{from}/", StringComparison.Ordinal)) return $"/api/models/{to}/" + target[(from.Length + 13)..];
        }
        return null;
    }

    private CannedResponse ServeCdn(RecordedRequest r)
    {
        var segments = r.Target.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        byte[]? content = null;
        if (segments.Length == 2 && segments[0] == "repos") lock (_cdnBlobs) _cdnBlobs.TryGetValue(segments[1], out content);
        return content is null ? Error(404, null, "NoSuchKey") : Ranged(r, content);
    }

    /// <summary>200 with the whole content, or 206 for <c>Range: bytes=N-</c>; 416 past the end.</summary>
    public static CannedResponse Ranged(RecordedRequest r, byte[] content)
    {
        if (r.Header("Range") is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            long from = long.Parse(range["bytes=".Length..^1]);
            if (from >= content.Length)
                return new CannedResponse { Status = 416, Headers = { ["Content-Range"] = $"bytes */{content.Length}" } };
            return new CannedResponse
            {
                Status = 206,
                Headers = { ["Content-Range"] = $"bytes {from}-{content.Length - 1}/{content.Length}" },
                Body = content[(int)from..],
            };
        }
        return new CannedResponse { Body = content };
    }

    public static CannedResponse Error(int status, string? code, string message)
    {
        var response = new CannedResponse { Status = status, Body = Encoding.UTF8.GetBytes($"{{\"error\":\"{message}\"}}") };
        if (code is not null) response.Headers["X-Error-Code"] = code;
        response.Headers["X-Error-Message"] = message;
        return response;
    }

    private (FakeRepo?, CannedResponse?) Access(string repoId, RecordedRequest r)
    {
        if (!Repos.TryGetValue(repoId, out var repo))
            return (null, Error(401, "RepoNotFound", "Repository not found"));
        if (repo.Gated && (GrantedToken is null || r.Header("Authorization") != $"Bearer {GrantedToken}"))
            return (null, Error(403, "GatedRepo", $"Access to model {repoId} is restricted. You must have access to it and be authenticated to access it."));
        return (repo, null);
    }

    public void Dispose()
    {
        Hub.Dispose();
        Cdn.Dispose();
    }
}
