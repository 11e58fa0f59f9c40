namespace Splade.Hub;

/// <summary>
/// Turns what a user types for a model into a local folder: an existing folder as is, otherwise a Hub id
/// <c>owner/name[@revision]</c> fetched into (or read from) the shared Hugging Face cache.
/// </summary>
/// <remarks>
/// Online, one revision listing is always sent (so a moved branch is noticed); files already in the snapshot
/// cost nothing more. Offline (<see cref="HubOptions.Offline"/>, <c>HF_HUB_OFFLINE=1</c>) nothing is sent: the
/// revision is read from <c>refs/</c>. When the Hub cannot be reached or answers 5xx, a cached snapshot of the
/// revision is used, as Python does.
/// </remarks>
public static class ModelLocator
{
    /// <summary>Resolves a folder path or Hub id to a local model folder, downloading what a sparse encoder needs.</summary>
    /// <param name="modelIdOrPath">An existing directory, or <c>owner/name</c> / <c>owner/name@revision</c>.</param>
    /// <param name="options">Hub settings; <see cref="HubOptions.FromEnvironment"/> when null.</param>
    /// <param name="progress">Per-file download progress.</param>
    /// <param name="cancellationToken">Stops the download; partial files are kept for resuming.</param>
    /// <returns>The folder: <paramref name="modelIdOrPath"/> itself, or <c>{cache}/models--{owner}--{name}/snapshots/{commit}</c>.</returns>
    /// <exception cref="DirectoryNotFoundException">It looks like a path but no such folder exists.</exception>
    /// <exception cref="ArgumentException">Neither a folder nor a valid Hub id.</exception>
    /// <exception cref="HubException">The Hub refused or failed (see the subclasses).</exception>
    public static async Task<string> ResolveAsync(string modelIdOrPath, HubOptions? options = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelIdOrPath);
        if (Directory.Exists(modelIdOrPath)) return modelIdOrPath;
        if (!ModelReference.TryParse(modelIdOrPath, out var model))
        {
            if (LooksLikePath(modelIdOrPath))
                throw new DirectoryNotFoundException($"Model folder '{modelIdOrPath}' does not exist.");
            throw new ArgumentException($"'{modelIdOrPath}' is neither an existing folder nor a Hub model id (owner/name or owner/name@revision).",
                nameof(modelIdOrPath));
        }
        options ??= HubOptions.FromEnvironment();
        using var client = new HubClient(options);
        var (folder, cacheOnly) = await client.DownloadSnapshotCoreAsync(model,
            files => SparseEncoderFiles.Select(files, model.RepoId), progress, cancellationToken).ConfigureAwait(false);
        // Without the file list, at least the entry point of a model must be there.
        if (cacheOnly && !HubCache.ContentExists(Path.Combine(folder, "modules.json")) && !HubCache.ContentExists(Path.Combine(folder, "config.json")))
        {
            string detail = $"the snapshot '{folder}' holds neither modules.json nor config.json";
            if (options.Offline) throw new OfflineCacheMissException(model.RepoId, model.Revision, "modules.json", options.CacheDir, detail);
            throw new HubNetworkException($"The Hub could not be reached and {detail}.");
        }
        return folder;
    }

    /// <summary>Blocking form of <see cref="ResolveAsync"/>.</summary>
    public static string Resolve(string modelIdOrPath, HubOptions? options = null,
        IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => ResolveAsync(modelIdOrPath, options, progress, cancellationToken), cancellationToken).GetAwaiter().GetResult();

    private static bool LooksLikePath(string s) =>
        Path.IsPathRooted(s) || s.StartsWith('.') || s.StartsWith('~') || s.Contains('\\') || s.Count(c => c == '/') > 1;
}
