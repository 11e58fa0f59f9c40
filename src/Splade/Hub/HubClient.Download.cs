using System.Security.Cryptography;

namespace Splade.Hub;

public sealed partial class HubClient
{
    /// <summary>
    /// Returns the local path of one repository file, downloading it when needed (Python's <c>hf_hub_download</c>).
    /// A commit-hash revision already in the cache needs no request; a branch or tag costs one HEAD. When the Hub
    /// cannot be reached (or answers 5xx) and the cache knows the revision, the cached file is returned.
    /// </summary>
    /// <param name="model">Repository and revision.</param>
    /// <param name="path">'/'-separated path inside the repository.</param>
    /// <param name="progress">Bytes of this file written so far.</param>
    /// <param name="cancellationToken">Stops the download; the partial file is kept for resuming.</param>
    /// <returns>The path under <c>snapshots/{commit}/</c>.</returns>
    /// <exception cref="EntryNotFoundException">The file does not exist at that revision (also remembered in <c>.no_exist/</c>).</exception>
    public async Task<string> DownloadFileAsync(ModelReference model, string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        HubCache.ToLocal(path);
        if (Options.Offline) return FileFromCache(model, path);
        if (model.IsCommitHash)
        {
            ThrowIfKnownMissing(model, model.Revision, path);
            if (Cache.TryGetFile(model, model.Revision, path) is { } cached) return cached;
        }
        HubFileMetadata metadata;
        try
        {
            metadata = await GetFileMetadataAsync(model, path, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (HubErrors.IsTransient(e))
        {
            // Same fallback as Python: the Hub is unreachable, but the cache may hold the file already.
            if (Cache.ResolveCommit(model) is { } commit && Cache.TryGetFile(model, commit, path) is { } cached) return cached;
            throw;
        }
        Cache.WriteRef(model, metadata.Commit);
        return await FetchAsync(model, path, metadata, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Downloads the files of a revision (Python's <c>snapshot_download</c>): one revision listing, then for each
    /// selected file not yet in <c>snapshots/{commit}/</c> a HEAD and a GET. Files already there cost nothing.
    /// </summary>
    /// <param name="model">Repository and revision.</param>
    /// <param name="selectFiles">Chooses which of the listed files to fetch; all of them when null.</param>
    /// <param name="progress">Per-file progress.</param>
    /// <param name="cancellationToken">Stops the download; partial files are kept for resuming.</param>
    /// <returns>The snapshot folder <c>snapshots/{commit}</c>.</returns>
    public async Task<string> DownloadSnapshotAsync(ModelReference model, Func<IReadOnlyList<string>, IReadOnlyList<string>>? selectFiles = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        (await DownloadSnapshotCoreAsync(model, selectFiles, progress, cancellationToken).ConfigureAwait(false)).Folder;

    /// <returns>The snapshot folder, and whether it was taken from the cache without the file list (offline or Hub unreachable).</returns>
    internal async Task<(string Folder, bool CacheOnly)> DownloadSnapshotCoreAsync(ModelReference model,
        Func<IReadOnlyList<string>, IReadOnlyList<string>>? selectFiles, IProgress<HubDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        if (Options.Offline) return (SnapshotFromCache(model), true);
        RepoRevisionInfo info;
        try
        {
            info = await GetRevisionInfoAsync(model, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException e) when (HubErrors.IsTransient(e))
        {
            if (Cache.ResolveCommit(model) is { } commit && Directory.Exists(Cache.SnapshotFolder(model, commit)))
                return (Cache.SnapshotFolder(model, commit), true);
            throw;
        }
        Cache.WriteRef(model, info.Sha);
        var files = selectFiles is null ? info.Files : selectFiles(info.Files);
        var pinned = model with { Revision = info.Sha }; // every file from the same commit, even if the branch moves meanwhile
        for (int i = 0; i < files.Count; i++)
        {
            string file = files[i];
            int index = i;
            if (Cache.TryGetFile(pinned, info.Sha, file) is { } cached)
            {
                long length = HubCache.ContentLength(cached);
                progress?.Report(new HubDownloadProgress(file, length, length, index, files.Count) { FromCache = true });
                continue;
            }
            var metadata = await GetFileMetadataAsync(pinned, file, cancellationToken).ConfigureAwait(false);
            if (metadata.Commit != info.Sha)
                throw new HubException($"The Hub answered commit {metadata.Commit} for '{file}' at {info.Sha}: the repository changed during the download; try again.");
            progress?.Report(new HubDownloadProgress(file, 0, metadata.Size, index, files.Count));
            var fileProgress = progress is null ? null : new InlineProgress<long>(done => progress.Report(new HubDownloadProgress(file, done, metadata.Size, index, files.Count)));
            string local = await FetchAsync(pinned, file, metadata, fileProgress, cancellationToken).ConfigureAwait(false);
            long total = HubCache.ContentLength(local);
            progress?.Report(new HubDownloadProgress(file, total, metadata.Size ?? total, index, files.Count));
        }
        string folder = Cache.SnapshotFolder(model, info.Sha);
        Directory.CreateDirectory(folder);
        return (folder, false);
    }

    /// <summary>The snapshot folder of the cached revision, without any request.</summary>
    /// <exception cref="OfflineCacheMissException">The revision is unknown to the cache or its snapshot folder is missing.</exception>
    public string SnapshotFromCache(ModelReference model)
    {
        string? commit = Cache.ResolveCommit(model)
            ?? throw new OfflineCacheMissException(model.RepoId, model.Revision, null, Options.CacheDir,
                $"no {Path.Combine(HubCache.RepoFolderName(model), "refs", model.Revision)}");
        string folder = Cache.SnapshotFolder(model, commit);
        if (!Directory.Exists(folder))
            throw new OfflineCacheMissException(model.RepoId, model.Revision, null, Options.CacheDir, $"no snapshot folder for commit {commit}");
        return folder;
    }

    private string FileFromCache(ModelReference model, string path)
    {
        string? commit = Cache.ResolveCommit(model)
            ?? throw new OfflineCacheMissException(model.RepoId, model.Revision, path, Options.CacheDir,
                $"no {Path.Combine(HubCache.RepoFolderName(model), "refs", model.Revision)}");
        ThrowIfKnownMissing(model, commit, path);
        return Cache.TryGetFile(model, commit, path)
            ?? throw new OfflineCacheMissException(model.RepoId, model.Revision, path, Options.CacheDir, $"not in the snapshot of commit {commit}");
    }

    private void ThrowIfKnownMissing(ModelReference model, string commit, string path)
    {
        if (Cache.IsKnownMissing(model, commit, path))
            throw new EntryNotFoundException($"File '{path}' does not exist in {model.RepoId}@{model.Revision} (recorded in the cache's .no_exist/{commit}).");
    }

    /// <summary>Links an existing blob into the snapshot, or downloads it first.</summary>
    private async Task<string> FetchAsync(ModelReference model, string path, HubFileMetadata metadata, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        if (Cache.TryGetFile(model, metadata.Commit, path) is { } existing) return existing;
        string blob = Cache.BlobPath(model, metadata.ETag);
        if (!File.Exists(blob)) await DownloadBlobAsync(model, path, metadata, blob, progress, cancellationToken).ConfigureAwait(false);
        else progress?.Report(new FileInfo(blob).Length);
        return Cache.LinkIntoSnapshot(model, metadata.Commit, path, metadata.ETag);
    }

    /// <summary>
    /// Writes <c>blobs/{etag}.incomplete</c> (resuming what an earlier attempt left with <c>Range: bytes=N-</c>),
    /// checks size and sha256, then renames it to <c>blobs/{etag}</c>. A body cut short is resumed; the attempt
    /// counter starts over whenever an attempt made progress.
    /// </summary>
    private async Task DownloadBlobAsync(ModelReference model, string path, HubFileMetadata metadata, string blob, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        using var _ = await BlobLock.AcquireAsync(Cache.LockPath(model, metadata.ETag), Options.LockTimeout, cancellationToken).ConfigureAwait(false);
        if (File.Exists(blob)) return; // finished by another process while this one waited for the lock
        string incomplete = blob + ".incomplete";
        int failures = 0;
        while (true)
        {
            long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (metadata.Size is long expected && have > expected)
            {
                File.Delete(incomplete);
                have = 0;
            }
            if (metadata.Size is long size && have == size && (size > 0 || File.Exists(incomplete))) break;
            if (metadata.Size == 0)
            {
                await File.WriteAllBytesAsync(incomplete, [], cancellationToken).ConfigureAwait(false);
                break;
            }
            try
            {
                long done = await GetIntoAsync(model, path, metadata.Location, incomplete, have, progress, cancellationToken).ConfigureAwait(false);
                if (metadata.Size is null || done >= metadata.Size) break;
                throw new IOException($"the body ended after {done} of {metadata.Size} bytes");
            }
            catch (Exception e) when (e is IOException or HttpRequestException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                long now = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                failures = now > have ? 0 : failures + 1;
                if (failures > Options.MaxRetries)
                    throw new HubNetworkException($"Downloading '{path}' of {model.RepoId} from {metadata.Location} kept failing: {e.Message}. "
                        + $"{now} of {metadata.Size?.ToString() ?? "?"} bytes are kept in '{incomplete}' and the next attempt resumes from there.", e)
                    { Url = metadata.Location };
                await Task.Delay(Backoff(Math.Max(failures - 1, 0), null), cancellationToken).ConfigureAwait(false);
            }
        }
        await VerifyAsync(path, metadata, incomplete, cancellationToken).ConfigureAwait(false);
        File.Move(incomplete, blob, overwrite: true);
    }

    /// <summary>One GET into the partial file from byte <paramref name="have"/>; returns the partial file's length afterwards.</summary>
    private async Task<long> GetIntoAsync(ModelReference model, string path, string url, string incomplete, long have,
        IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var (response, finalUrl) = await SendAsync(HttpMethod.Get, url, have, RedirectRule.All, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (response.StatusCode == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                File.Delete(incomplete);
                throw new IOException($"the server refused to resume at byte {have}; starting over");
            }
            if (!response.IsSuccessStatusCode)
                throw HubErrors.FromResponse(response, finalUrl, model, path, isApiCall: false, null);
            long start = 0;
            if (response.StatusCode == System.Net.HttpStatusCode.PartialContent)
            {
                long? from = response.Content.Headers.ContentRange?.From;
                if (from != have)
                {
                    File.Delete(incomplete);
                    throw new IOException($"asked for bytes from {have} but the server sent a range from {from?.ToString() ?? "?"}; starting over");
                }
                start = have;
            }
            // A 200 to a Range request means the server ignored it: the whole content follows.
            await using var file = new FileStream(incomplete, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            file.SetLength(start);
            file.Position = start;
            long lastReport = start;
            progress?.Report(start);
            long done = await CopyBodyAsync(response, file, start, long.MaxValue, d =>
            {
                if (d - lastReport >= (1 << 20)) { lastReport = d; progress?.Report(d); }
            }, cancellationToken).ConfigureAwait(false);
            progress?.Report(done);
            return done;
        }
    }

    private static async Task VerifyAsync(string path, HubFileMetadata metadata, string incomplete, CancellationToken cancellationToken)
    {
        long length = new FileInfo(incomplete).Length;
        if (metadata.Size is long size && length != size)
        {
            File.Delete(incomplete);
            throw new HubIntegrityException($"'{path}' downloaded from {metadata.Location} has {length} bytes, the Hub announced {size}; the partial file was deleted.") { Url = metadata.Location };
        }
        if (metadata.Sha256 is { } expected)
        {
            string actual;
            await using (var stream = new FileStream(incomplete, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            if (actual != expected)
            {
                File.Delete(incomplete);
                throw new HubIntegrityException($"'{path}' downloaded from {metadata.Location} has sha256 {actual}, the Hub announced {expected} (X-Linked-Etag); "
                    + "the corrupt file was deleted.") { Url = metadata.Location };
            }
        }
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (no synchronization-context hop).</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
