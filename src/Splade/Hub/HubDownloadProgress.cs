namespace Splade.Hub;

/// <summary>
/// Progress of a snapshot download: <paramref name="File"/> is the path inside the repository,
/// <paramref name="FileIndex"/> counts from 0 among the <paramref name="FileCount"/> files selected.
/// A file served from the cache is reported once, complete, with <see cref="FromCache"/> set.
/// </summary>
public readonly record struct HubDownloadProgress(string File, long BytesDone, long? BytesTotal, int FileIndex, int FileCount)
{
    /// <summary>True when the file was already in the cache and nothing was downloaded.</summary>
    public bool FromCache { get; init; }
}
