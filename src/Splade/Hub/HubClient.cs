using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Splade.Hub;

/// <summary>
/// Talks to the Hugging Face Hub the way <c>huggingface_hub</c> does: revision listing
/// (<c>api/models/{owner}/{name}/revision/{rev}</c>), HEAD metadata on the resolve URL following relative
/// redirects only (<see cref="RedirectRule.RelativeOnly"/>), and resumable downloads from the location the HEAD
/// named into the shared cache (<see cref="HubCache"/>). The token is sent to the endpoint's host only, never to
/// a CDN it redirects to, nor after a redirect has left that host.
/// Transient failures (no connection, timeouts, 5xx, 429, bodies cut short) are retried with exponential backoff.
/// </summary>
public sealed partial class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private const int MaxJsonBytes = 64 << 20;

    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <param name="options">Endpoint, token, cache folder, offline mode; <see cref="HubOptions.FromEnvironment"/> when null.</param>
    public HubClient(HubOptions? options = null)
    {
        Options = options ?? HubOptions.FromEnvironment();
        Cache = new HubCache(Options.CacheDir);
        if (!Uri.TryCreate(Options.Endpoint.TrimEnd('/'), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Hub endpoint '{Options.Endpoint}' is not an http(s) URL (check HF_ENDPOINT).", nameof(options));
        _endpoint = endpoint;

        HttpMessageHandler handler;
        if (Options.Handler is { } given)
        {
            handler = given;
            // Redirects must reach this client so that cross-host ones are not followed by HEAD and lose no headers.
            try
            {
                if (given is SocketsHttpHandler s) s.AllowAutoRedirect = false;
                else if (given is HttpClientHandler h) h.AllowAutoRedirect = false;
            }
            catch (InvalidOperationException) { /* already used elsewhere: its own setting stays */ }
        }
        else
        {
            handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = Options.Timeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            };
        }
        _http = new HttpClient(handler, disposeHandler: Options.Handler is null) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <summary>The settings in use.</summary>
    public HubOptions Options { get; }

    /// <summary>The cache this client reads and fills.</summary>
    public HubCache Cache { get; }

    /// <summary><c>{endpoint}/{owner}/{name}/resolve/{revision}/{path}</c>, revision and path segments URL-escaped.</summary>
    public string ResolveUrl(ModelReference model, string path) =>
        $"{Options.Endpoint.TrimEnd('/')}/{model.Owner}/{model.Name}/resolve/{Uri.EscapeDataString(model.Revision)}/"
        + string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    /// <summary><c>{endpoint}/api/models/{owner}/{name}/revision/{revision}</c>.</summary>
    public string RevisionUrl(ModelReference model) =>
        $"{Options.Endpoint.TrimEnd('/')}/api/models/{model.Owner}/{model.Name}/revision/{Uri.EscapeDataString(model.Revision)}";

    /// <summary>Lists the files of a revision and the commit it points at (one GET).</summary>
    /// <exception cref="RepositoryNotFoundException">Unknown or private repository.</exception>
    /// <exception cref="RevisionNotFoundException">Unknown branch, tag or commit.</exception>
    /// <exception cref="OfflineCacheMissException">Offline mode is on.</exception>
    public async Task<RepoRevisionInfo> GetRevisionInfoAsync(ModelReference model, CancellationToken cancellationToken = default)
    {
        ThrowIfOffline(model, null);
        string url = RevisionUrl(model);
        var (response, _) = await SendAsync(HttpMethod.Get, url, 0, RedirectRule.All, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            var body = new MemoryStream();
            await CopyBodyAsync(response, body, 0, MaxJsonBytes, null, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw HubErrors.FromResponse(response, url, model, null, isApiCall: true, System.Text.Encoding.UTF8.GetString(body.ToArray()));
            try
            {
                using var doc = JsonDocument.Parse(body.ToArray());
                var root = doc.RootElement;
                string? sha = root.TryGetProperty("sha", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                if (sha is null || !ModelReference.IsCommit(sha))
                    throw new HubException($"The answer of {url} has no 40-hex commit in \"sha\" (got '{sha}').") { Url = url };
                var files = new List<string>();
                if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
                    foreach (var sibling in siblings.EnumerateArray())
                        if (sibling.ValueKind == JsonValueKind.Object && sibling.TryGetProperty("rfilename", out var f) && f.GetString() is { Length: > 0 } name)
                            files.Add(name);
                return new RepoRevisionInfo(sha, files);
            }
            catch (JsonException e)
            {
                throw new HubException($"The answer of {url} is not valid JSON: {e.Message}", e) { Url = url };
            }
        }
    }

    /// <summary>
    /// HEAD on the resolve URL by the rule of <c>huggingface_hub</c>'s <c>get_hf_file_metadata</c>: a relative
    /// redirect (a renamed repository) is followed; any other redirect (to a CDN, or to a blob path of the same
    /// host as a mirror may answer) ends the request, and <c>X-Repo-Commit</c>, <c>X-Linked-Etag</c> (else
    /// <c>ETag</c>) and <c>X-Linked-Size</c> (else <c>Content-Length</c>) are read from that redirect itself,
    /// its <c>Location</c> becoming the download address.
    /// A 404 <c>EntryNotFound</c> that names the commit is recorded in <c>.no_exist/</c>.
    /// </summary>
    public async Task<HubFileMetadata> GetFileMetadataAsync(ModelReference model, string path, CancellationToken cancellationToken = default)
    {
        HubCache.ToLocal(path);
        ThrowIfOffline(model, path);
        string url = ResolveUrl(model, path);
        var (response, finalUrl) = await SendAsync(HttpMethod.Head, url, 0, RedirectRule.RelativeOnly, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            int status = (int)response.StatusCode;
            string? commit = HubErrors.Header(response, "X-Repo-Commit");
            if (status >= 400)
            {
                var error = HubErrors.FromResponse(response, url, model, path, isApiCall: false, null);
                if (error is EntryNotFoundException && commit is not null && ModelReference.IsCommit(commit))
                {
                    Cache.WriteRef(model, commit);
                    Cache.MarkMissing(model, commit, path);
                }
                throw error;
            }
            // Which answer the headers came from: the redirect that ended the HEAD, or the final 2xx.
            string answer = finalUrl == url ? url : $"{finalUrl} (reached from {url} by relative redirects)";
            string inRedirect = status is >= 300 and < 400 ? $" on its HTTP {status} redirect" : "";
            if (commit is null || !ModelReference.IsCommit(commit))
                throw new HubException($"{answer} answered without a valid X-Repo-Commit header{inRedirect}: the endpoint does not behave like the Hugging Face Hub "
                    + "(check HF_ENDPOINT and any proxy; a redirect that is not relative must carry X-Repo-Commit itself).") { Url = url };
            string? linked = HubErrors.Header(response, "X-Linked-Etag");
            string? etag = NormalizeEtag(linked ?? HubErrors.Header(response, "ETag"));
            if (etag is null)
                throw new HubException($"{answer} answered without an ETag or X-Linked-Etag{inRedirect}: cannot name the blob in the cache.") { Url = url };
            long? size = long.TryParse(HubErrors.Header(response, "X-Linked-Size"), out long linkedSize) ? linkedSize : response.Content.Headers.ContentLength;
            string location = finalUrl;
            if (status is >= 300 and < 400)
            {
                if (response.Headers.Location is not { } loc)
                    throw new HubException($"{url} answered {status} without a Location header.") { Url = url };
                location = new Uri(new Uri(finalUrl), loc).AbsoluteUri;
            }
            // For LFS files the linked etag is the sha256 of the content: worth checking after the download.
            string? sha256 = linked is not null && etag.Length == 64 && etag.All(Uri.IsHexDigit) ? etag.ToLowerInvariant() : null;
            return new HubFileMetadata(commit, etag, size, location, sha256);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    /// <summary>Strips the weak marker and quotes: <c>W/"abc"</c> → <c>abc</c>.</summary>
    internal static string? NormalizeEtag(string? etag)
    {
        if (string.IsNullOrWhiteSpace(etag)) return null;
        string e = etag.Trim();
        if (e.StartsWith("W/", StringComparison.Ordinal)) e = e[2..];
        e = e.Trim('"');
        return e.Length == 0 ? null : e;
    }

    private void ThrowIfOffline(ModelReference model, string? path)
    {
        if (Options.Offline)
            throw new OfflineCacheMissException(model.RepoId, model.Revision, path, Options.CacheDir, "a request to the Hub would be needed");
    }

    private bool IsEndpointHost(Uri uri) =>
        string.Equals(uri.Scheme, _endpoint.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, _endpoint.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == _endpoint.Port;

    /// <summary>
    /// Sends one request with retries on transient failures. Redirects are followed here, never by the handler,
    /// as <paramref name="redirects"/> says; a redirect not followed is returned as is (its headers are the metadata).
    /// The Authorization header goes only to the endpoint's host, and once a redirect has left that host it is not
    /// sent again on that request, even back on the endpoint (as the HTTP clients of <c>huggingface_hub</c> drop it).
    /// </summary>
    /// <returns>The response (caller disposes) and the URL that produced it.</returns>
    private async Task<(HttpResponseMessage Response, string Url)> SendAsync(
        HttpMethod method, string url, long rangeStart, RedirectRule redirects, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            string finalUrl;
            try
            {
                (response, finalUrl) = await SendFollowingRedirectsAsync(method, url, rangeStart, redirects, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt < Options.MaxRetries)
                {
                    await Task.Delay(Backoff(attempt, null), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                string reason = e is OperationCanceledException ? $"no answer within {Options.Timeout.TotalSeconds:0.#} s" : e.Message;
                throw new HubNetworkException(
                    $"Cannot reach {url}: {reason} (after {attempt + 1} attempts). Check HF_ENDPOINT, the network or proxy; "
                    + "with a filled cache, HF_HUB_OFFLINE=1 avoids the network.", e) { Url = url };
            }
            int status = (int)response.StatusCode;
            if ((status >= 500 || status == 429) && attempt < Options.MaxRetries)
            {
                var wait = Backoff(attempt, response.Headers.RetryAfter);
                response.Dispose();
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                continue;
            }
            return (response, finalUrl);
        }
    }

    private async Task<(HttpResponseMessage, string)> SendFollowingRedirectsAsync(
        HttpMethod method, string url, long rangeStart, RedirectRule redirects, CancellationToken cancellationToken)
    {
        var current = new Uri(url);
        bool onEndpoint = true;
        for (int hop = 0; hop <= MaxRedirects; hop++)
        {
            onEndpoint &= IsEndpointHost(current);
            using var request = new HttpRequestMessage(method, current);
            request.Headers.TryAddWithoutValidation("User-Agent", Options.UserAgent);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (rangeStart > 0) request.Headers.Range = new RangeHeaderValue(rangeStart, null);
            if (Options.Token is { Length: > 0 } token && onEndpoint)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.Timeout);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                Uri next;
                if (redirects == RedirectRule.RelativeOnly)
                {
                    if (!HubRedirects.IsRelative(location.OriginalString)) return (response, current.AbsoluteUri);
                    next = HubRedirects.FollowRelative(current, location.OriginalString);
                }
                else if (status is 301 or 302 or 303 or 307 or 308) next = new Uri(current, location);
                else return (response, current.AbsoluteUri);
                response.Dispose();
                current = next;
                continue;
            }
            return (response, current.AbsoluteUri);
        }
        throw new HubException($"Too many redirects (more than {MaxRedirects}) starting from {url}.") { Url = url };
    }

    private TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        var wait = Options.RetryBaseDelay * Math.Pow(2, Math.Min(attempt, 10));
        if (retryAfter?.Delta is { } delta && delta > wait) wait = delta < TimeSpan.FromSeconds(30) ? delta : TimeSpan.FromSeconds(30);
        return wait;
    }

    /// <summary>
    /// Copies a response body to <paramref name="target"/>, failing with <see cref="TimeoutException"/> when a single
    /// read makes no progress within <see cref="HubOptions.Timeout"/>.
    /// </summary>
    /// <returns>Bytes written plus <paramref name="offset"/>.</returns>
    private async Task<long> CopyBodyAsync(HttpResponseMessage response, Stream target, long offset, long maxBytes,
        Action<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(Options.Timeout);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            long done = offset;
            while (true)
            {
                idle.CancelAfter(Options.Timeout); // re-armed before every read: an idle timeout, not a total one
                int n;
                try
                {
                    n = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data received for {Options.Timeout.TotalSeconds:0.#} s after {done} bytes");
                }
                if (n == 0) break;
                if (done - offset + n > maxBytes) throw new HubException($"Answer larger than {maxBytes} bytes.");
                await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                done += n;
                progress?.Invoke(done);
            }
            return done;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
