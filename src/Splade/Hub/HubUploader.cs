using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Splade.Hub;

/// <summary>
/// Uploads a folder to a Hub model repository over HTTP, following the protocol of <c>huggingface_hub</c>'s
/// <c>upload_folder</c> (no git needed):
/// <list type="number">
/// <item><c>POST /api/repos/create</c> <c>{"name", "organization", "private"}</c> (409: already exists, kept);</item>
/// <item><c>POST /api/models/{repo}/preupload/{revision}</c> with each file's path, size and first 512 bytes
/// (base64): the Hub answers <c>uploadMode</c> <c>regular</c> or <c>lfs</c> per file (from the repository's
/// <c>.gitattributes</c>) and <c>shouldIgnore</c>;</item>
/// <item>LFS files: <c>POST /{repo}.git/info/lfs/objects/batch</c> (Git LFS batch API, <c>operation: upload</c>,
/// sha256 oids), then a PUT of the bytes to each returned <c>upload.href</c> (or one PUT per part and a completion
/// POST when the action's header carries <c>chunk_size</c>), then the <c>verify</c> action when given;
/// objects without actions are already stored;</item>
/// <item><c>POST /api/models/{repo}/commit/{revision}</c>, <c>application/x-ndjson</c>: a <c>header</c> line
/// (summary, description), one <c>file</c> line per regular file (base64 content) and one <c>lfsFile</c> line per
/// LFS file (path, algo sha256, oid, size).</item>
/// </list>
/// The token goes to the endpoint's host only, never to the storage URLs the LFS batch returns.
/// </summary>
public sealed class HubUploader : IDisposable
{
    private const int SampleBytes = 512;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <param name="options">Endpoint and token; <see cref="HubOptions.FromEnvironment"/> (HF_ENDPOINT, HF_TOKEN) when null.</param>
    /// <exception cref="HubAuthenticationException">No token is configured (uploading needs a write token).</exception>
    public HubUploader(HubOptions? options = null)
    {
        Options = options ?? HubOptions.FromEnvironment();
        if (string.IsNullOrEmpty(Options.Token))
            throw new HubAuthenticationException("Uploading to the Hub needs a write token: set HF_TOKEN (or log in so that $HF_HOME/token exists).");
        if (!Uri.TryCreate(Options.Endpoint.TrimEnd('/'), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Hub endpoint '{Options.Endpoint}' is not an http(s) URL (check HF_ENDPOINT).", nameof(options));
        _endpoint = endpoint;
        _http = Options.Handler is { } h
            ? new HttpClient(h, disposeHandler: false)
            : new HttpClient(new SocketsHttpHandler { ConnectTimeout = Options.Timeout, AllowAutoRedirect = true });
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>The settings in use.</summary>
    public HubOptions Options { get; }

    private string Endpoint => _endpoint.ToString().TrimEnd('/');

    /// <summary>Creates model repository <paramref name="repoId"/> (<c>owner/name</c>); an existing one is left as is.</summary>
    /// <returns>True when it was created, false when it already existed.</returns>
    public async Task<bool> CreateRepositoryAsync(string repoId, bool isPrivate = false, CancellationToken cancellationToken = default)
    {
        var (owner, name) = SplitRepoId(repoId);
        var body = new JsonObject { ["name"] = name, ["organization"] = owner, ["private"] = isPrivate };
        string url = $"{Endpoint}/api/repos/create";
        using var response = await SendAsync(() => Json(HttpMethod.Post, url, body, "application/json"), url, retry: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict) return false;
        await EnsureSuccessAsync(response, url, repoId, "create the repository", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Uploads every file of <paramref name="folder"/> (see <see cref="HubUploadOptions.Include"/>) in one commit.</summary>
    /// <param name="repoId">Model repository, <c>owner/name</c>.</param>
    /// <param name="folder">Local folder; paths in the repository are relative to it, '/'-separated.</param>
    /// <param name="options">Branch, message, visibility, file filter.</param>
    /// <param name="progress">One line per step (files hashed, LFS uploads, commit).</param>
    /// <param name="cancellationToken">Stops between and during requests.</param>
    /// <exception cref="HubException">The Hub refused a step (status, error code and URL in the message).</exception>
    public async Task<HubCommitInfo> UploadFolderAsync(string repoId, string folder, HubUploadOptions? options = null,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new HubUploadOptions();
        SplitRepoId(repoId);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Folder '{folder}' to upload does not exist.");
        var include = options.Include ?? (p => !HubUploadOptions.DefaultExclude(p));
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Local: f, Path: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => include(f.Path)).OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => LocalFile.Describe(f.Local, f.Path)).ToList();
        if (files.Count == 0) throw new ArgumentException($"Folder '{folder}' holds no file to upload.", nameof(folder));
        progress?.Report($"hub: {files.Count} files, {files.Sum(f => f.Size) / 1e6:F1} MB");

        if (options.CreateRepository && await CreateRepositoryAsync(repoId, options.Private, cancellationToken).ConfigureAwait(false))
            progress?.Report($"hub: created {repoId}");

        string revision = Uri.EscapeDataString(options.Revision);
        var modes = await PreuploadAsync(repoId, revision, files, cancellationToken).ConfigureAwait(false);
        var lfs = files.Where(f => modes[f.Path] == "lfs").ToList();
        var regular = files.Where(f => modes[f.Path] == "regular").ToList();
        long sent = lfs.Count == 0 ? 0 : await UploadLfsAsync(repoId, options.Revision, lfs, progress, cancellationToken).ConfigureAwait(false);

        // Commit: NDJSON lines, header first (huggingface_hub _payload_as_ndjson).
        var ndjson = new StringBuilder();
        void Line(string key, JsonObject value) => ndjson.Append(new JsonObject { ["key"] = key, ["value"] = value }.ToJsonString()).Append('\n');
        Line("header", new JsonObject { ["summary"] = options.CommitMessage, ["description"] = options.CommitDescription });
        foreach (var f in regular)
            Line("file", new JsonObject { ["content"] = Convert.ToBase64String(await File.ReadAllBytesAsync(f.Local, cancellationToken).ConfigureAwait(false)), ["path"] = f.Path, ["encoding"] = "base64" });
        foreach (var f in lfs)
            Line("lfsFile", new JsonObject { ["path"] = f.Path, ["algo"] = "sha256", ["oid"] = f.Sha256, ["size"] = f.Size });
        string commitUrl = $"{Endpoint}/api/models/{repoId}/commit/{revision}";
        byte[] payload = Encoding.UTF8.GetBytes(ndjson.ToString());
        using var response = await SendAsync(() =>
        {
            var r = new HttpRequestMessage(HttpMethod.Post, commitUrl) { Content = new ByteArrayContent(payload) };
            r.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            return r;
        }, commitUrl, retry: false, cancellationToken).ConfigureAwait(false);
        var answer = await EnsureSuccessAsync(response, commitUrl, repoId, "commit", cancellationToken).ConfigureAwait(false);
        var json = ParseObject(answer, commitUrl);
        string oid = json["commitOid"]?.GetValue<string>() ?? throw new HubException($"The commit answer of {commitUrl} has no \"commitOid\".") { Url = commitUrl };
        string url = json["commitUrl"]?.GetValue<string>() ?? $"{Endpoint}/{repoId}/commit/{oid}";
        progress?.Report($"hub: committed {regular.Count + lfs.Count} files to {repoId}@{options.Revision}: {url}");
        return new HubCommitInfo(oid, url, regular.Select(f => f.Path).ToList(), lfs.Select(f => f.Path).ToList(), sent);
    }

    /// <summary>Asks the Hub which files go through LFS; files it ignores are dropped, empty files are always regular.</summary>
    private async Task<Dictionary<string, string>> PreuploadAsync(string repoId, string revision, List<LocalFile> files, CancellationToken ct)
    {
        string url = $"{Endpoint}/api/models/{repoId}/preupload/{revision}";
        var list = new JsonArray();
        foreach (var f in files) list.Add(new JsonObject { ["path"] = f.Path, ["sample"] = Convert.ToBase64String(f.Sample), ["size"] = f.Size });
        var body = new JsonObject { ["files"] = list };
        using var response = await SendAsync(() => Json(HttpMethod.Post, url, body, "application/json"), url, retry: true, ct).ConfigureAwait(false);
        var json = ParseObject(await EnsureSuccessAsync(response, url, repoId, "prepare the upload", ct).ConfigureAwait(false), url);
        var modes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in json["files"] as JsonArray ?? throw new HubException($"The answer of {url} has no \"files\" list.") { Url = url })
        {
            string? path = node?["path"]?.GetValue<string>();
            string? mode = node?["uploadMode"]?.GetValue<string>();
            if (path is null || mode is not ("lfs" or "regular")) throw new HubException($"The answer of {url} has a malformed file entry: {node?.ToJsonString()}") { Url = url };
            if (node?["shouldIgnore"]?.GetValue<bool>() == true) { modes[path] = "ignore"; continue; }
            modes[path] = mode;
        }
        foreach (var f in files)
        {
            if (!modes.ContainsKey(f.Path)) throw new HubException($"The answer of {url} does not mention '{f.Path}'.") { Url = url };
            if (f.Size == 0 && modes[f.Path] == "lfs") modes[f.Path] = "regular";
        }
        return modes;
    }

    /// <summary>Git LFS batch request, then the upload (and verify) actions of each object; returns the bytes sent.</summary>
    private async Task<long> UploadLfsAsync(string repoId, string revision, List<LocalFile> files, IProgress<string>? progress, CancellationToken ct)
    {
        string url = $"{Endpoint}/{repoId}.git/info/lfs/objects/batch";
        var objects = new JsonArray();
        foreach (var f in files.DistinctBy(f => f.Sha256)) objects.Add(new JsonObject { ["oid"] = f.Sha256, ["size"] = f.Size });
        var body = new JsonObject
        {
            ["operation"] = "upload", ["transfers"] = new JsonArray("basic", "multipart"), ["objects"] = objects,
            ["hash_algo"] = "sha256", ["ref"] = new JsonObject { ["name"] = revision },
        };
        using var response = await SendAsync(() =>
        {
            var r = Json(HttpMethod.Post, url, body, "application/vnd.git-lfs+json");
            r.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.git-lfs+json"));
            return r;
        }, url, retry: true, ct).ConfigureAwait(false);
        var json = ParseObject(await EnsureSuccessAsync(response, url, repoId, "start the LFS upload", ct).ConfigureAwait(false), url);
        long sent = 0;
        foreach (var obj in json["objects"] as JsonArray ?? throw new HubException($"The LFS batch answer of {url} has no \"objects\".") { Url = url })
        {
            string oid = obj?["oid"]?.GetValue<string>() ?? throw new HubException($"The LFS batch answer of {url} has an object without oid.") { Url = url };
            var file = files.FirstOrDefault(f => f.Sha256 == oid) ?? throw new HubException($"The LFS batch answer of {url} names an unknown object {oid}.") { Url = url };
            if (obj["error"] is JsonObject error)
                throw new HubException($"The Hub refused LFS object {oid} ('{file.Path}'): {error["message"]} (code {error["code"]}; {url}).") { Url = url };
            if (obj["actions"] is not JsonObject actions || actions["upload"] is not JsonObject upload)
            {
                progress?.Report($"hub: {file.Path} already stored");
                continue;
            }
            var header = Headers(upload);
            if (header.TryGetValue("chunk_size", out var chunkText)) await UploadMultipartAsync(file, upload, header, chunkText, ct).ConfigureAwait(false);
            else await PutAsync(Href(upload, url), header, file.Local, 0, file.Size, ct).ConfigureAwait(false);
            sent += file.Size;
            progress?.Report($"hub: uploaded {file.Path} ({file.Size / 1e6:F1} MB)");
            if (actions["verify"] is JsonObject verify)
            {
                string verifyUrl = Href(verify, url);
                var verifyBody = new JsonObject { ["oid"] = oid, ["size"] = file.Size };
                using var v = await SendAsync(() =>
                {
                    var r = Json(HttpMethod.Post, verifyUrl, verifyBody, "application/vnd.git-lfs+json");
                    foreach (var (k, val) in Headers(verify)) r.Headers.TryAddWithoutValidation(k, val);
                    return r;
                }, verifyUrl, retry: true, ct).ConfigureAwait(false);
                await EnsureSuccessAsync(v, verifyUrl, repoId, $"verify '{file.Path}'", ct).ConfigureAwait(false);
            }
        }
        return sent;
    }

    /// <summary>Multipart transfer: numeric header keys are the part URLs; each part's ETag goes into the completion POST.</summary>
    private async Task UploadMultipartAsync(LocalFile file, JsonObject upload, Dictionary<string, string> header, string chunkText, CancellationToken ct)
    {
        string completionUrl = Href(upload, Endpoint);
        if (!long.TryParse(chunkText, out long chunk) || chunk <= 0)
            throw new HubException($"Malformed LFS upload action for '{file.Path}': chunk_size '{chunkText}'.") { Url = completionUrl };
        var parts = header.Where(h => h.Key.Length > 0 && h.Key.All(char.IsAsciiDigit)).OrderBy(h => int.Parse(h.Key)).Select(h => h.Value).ToList();
        long expected = (file.Size + chunk - 1) / chunk;
        if (parts.Count != expected)
            throw new HubException($"The LFS multipart answer for '{file.Path}' has {parts.Count} part URLs, expected {expected} ({file.Size} bytes in chunks of {chunk}).") { Url = completionUrl };
        var done = new JsonArray();
        for (int i = 0; i < parts.Count; i++)
        {
            long offset = i * chunk;
            string etag = await PutAsync(parts[i], [], file.Local, offset, Math.Min(chunk, file.Size - offset), ct).ConfigureAwait(false)
                ?? throw new HubException($"Part {i + 1} of '{file.Path}' was stored without an ETag.") { Url = parts[i] };
            done.Add(new JsonObject { ["partNumber"] = i + 1, ["etag"] = etag });
        }
        var body = new JsonObject { ["oid"] = file.Sha256, ["parts"] = done };
        using var response = await SendAsync(() => Json(HttpMethod.Post, completionUrl, body, "application/vnd.git-lfs+json"), completionUrl, retry: true, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, completionUrl, null, $"complete the upload of '{file.Path}'", ct).ConfigureAwait(false);
    }

    /// <summary>PUT of <paramref name="length"/> bytes of a file from <paramref name="offset"/>; returns the ETag.</summary>
    private async Task<string?> PutAsync(string url, Dictionary<string, string> header, string path, long offset, long length, CancellationToken ct)
    {
        using var response = await SendAsync(() =>
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            stream.Seek(offset, SeekOrigin.Begin);
            var r = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StreamContent(new BoundedStream(stream, length)) };
            r.Content.Headers.ContentLength = length;
            foreach (var (k, v) in header)
                if (k != "chunk_size" && !k.All(char.IsAsciiDigit)) r.Headers.TryAddWithoutValidation(k, v);
            return r;
        }, url, retry: true, ct, uploadBytes: length).ConfigureAwait(false);
        await EnsureSuccessAsync(response, url, null, "upload an LFS object", ct).ConfigureAwait(false);
        return response.Headers.ETag?.Tag ?? HubErrors.Header(response, "ETag");
    }

    /// <summary>Sends a request built by <paramref name="build"/>; transient failures are retried with exponential backoff when <paramref name="retry"/>.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, string url, bool retry, CancellationToken ct, long uploadBytes = 0)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var request = build();
            if (Uri.TryCreate(url, UriKind.Absolute, out var target) && IsEndpointHost(target))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.Token);
            request.Headers.UserAgent.ParseAdd(Options.UserAgent);
            // The timeout bounds the wait for an answer; a large body gets time at 1 MB/s on top.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Options.Timeout + TimeSpan.FromSeconds(uploadBytes / 1e6));
            try
            {
                var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (!retry || attempt >= Options.MaxRetries || ((int)response.StatusCode < 500 && response.StatusCode != HttpStatusCode.TooManyRequests))
                    return response;
                response.Dispose();
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                if (!retry || attempt >= Options.MaxRetries)
                    throw new HubNetworkException($"Could not reach {url}: {e.Message}", e) { Url = url };
            }
            await Task.Delay(Options.RetryBaseDelay * Math.Pow(2, attempt), ct).ConfigureAwait(false);
        }
    }

    private bool IsEndpointHost(Uri uri) =>
        string.Equals(uri.Host, _endpoint.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == _endpoint.Port && uri.Scheme == _endpoint.Scheme;

    /// <summary>Returns the body of a successful answer; otherwise throws the typed exception of the status.</summary>
    private static async Task<string> EnsureSuccessAsync(HttpResponseMessage response, string url, string? repoId, string what, CancellationToken ct)
    {
        string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return body;
        string? code = HubErrors.Header(response, "X-Error-Code");
        string message = HubErrors.Header(response, "X-Error-Message") ?? (body.Length > 300 ? body[..300] + "…" : body).Trim();
        string detail = $"(HTTP {(int)response.StatusCode}{(code is null ? "" : " " + code)}{(message.Length == 0 ? "" : ": " + message)}; {url})";
        string repo = repoId is null ? "" : $" {repoId}";
        HubException e = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new HubAuthenticationException($"The Hub rejected the token while trying to {what}{repo}: check HF_TOKEN {detail}."),
            HttpStatusCode.Forbidden => new HubAuthenticationException($"The token may not {what}{repo}: it needs write access {detail}."),
            HttpStatusCode.NotFound when code is "RevisionNotFound" => new RevisionNotFoundException($"Could not {what}{repo}: the branch does not exist {detail}."),
            HttpStatusCode.NotFound => new RepositoryNotFoundException($"Could not {what}{repo}: repository not found {detail}."),
            _ => new HubException($"Could not {what}{repo} {detail}."),
        };
        e.StatusCode = response.StatusCode;
        e.Url = url;
        e.ErrorCode = code;
        throw e;
    }

    private static HttpRequestMessage Json(HttpMethod method, string url, JsonNode body, string contentType)
    {
        var r = new HttpRequestMessage(method, url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString())) };
        r.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return r;
    }

    private static JsonObject ParseObject(string body, string url)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new HubException($"The answer of {url} is not a JSON object.") { Url = url };
        }
        catch (JsonException e)
        {
            throw new HubException($"The answer of {url} is not valid JSON: {e.Message}", e) { Url = url };
        }
    }

    private static string Href(JsonObject action, string url) =>
        action["href"]?.GetValue<string>() ?? throw new HubException($"An LFS action of {url} has no href.") { Url = url };

    private static Dictionary<string, string> Headers(JsonObject action)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (action["header"] is JsonObject h)
            foreach (var (k, v) in h) result[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v?.ToJsonString() ?? "";
        return result;
    }

    private static (string Owner, string Name) SplitRepoId(string repoId)
    {
        var parts = repoId?.Split('/') ?? [];
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))))
            throw new ArgumentException($"'{repoId}' is not a Hub repository id (owner/name).", nameof(repoId));
        return (parts[0], parts[1]);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>A local file with what the Hub asks about it: size, sha256 (hex) and the first 512 bytes.</summary>
    private sealed record LocalFile(string Local, string Path, long Size, string Sha256, byte[] Sample)
    {
        public static LocalFile Describe(string local, string path)
        {
            using var stream = File.OpenRead(local);
            var sample = new byte[Math.Min(SampleBytes, stream.Length)];
            stream.ReadExactly(sample);
            stream.Position = 0;
            string sha = Convert.ToHexStringLower(SHA256.HashData(stream));
            return new LocalFile(local, path, stream.Length, sha, sample);
        }
    }

    /// <summary>Reads at most <c>length</c> bytes of the inner stream (one multipart chunk), then disposes it.</summary>
    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private readonly long _length = length;
        private long _left = length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length - _left; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left <= 0) return 0;
            int n = inner.Read(buffer, offset, (int)Math.Min(count, _left));
            _left -= n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
