namespace Splade.Search;

/// <summary>
/// A commit, merge or repair of an embedded index could not write a file (a full disk, a quota, an
/// I/O error). Nothing committed is lost: the index still holds commit <see cref="CommittedGeneration"/>
/// unchanged, the files of the failed attempt are removed, and the uncommitted changes stay pending,
/// so <see cref="InvertedIndex.Commit"/> can simply be called again once the cause is fixed.
/// </summary>
public sealed class IndexWriteException : IOException
{
    /// <summary>Creates the exception for a failed write of <paramref name="filePath"/>.</summary>
    public IndexWriteException(string filePath, long committedGeneration, string message, Exception inner) : base(message, inner)
    {
        FilePath = filePath;
        CommittedGeneration = committedGeneration;
        HResult = inner.HResult;
    }

    /// <summary>The file being written when the failure happened.</summary>
    public string FilePath { get; }

    /// <summary>The commit the index still holds.</summary>
    public long CommittedGeneration { get; }

    /// <summary>True when the device or a quota is full (ENOSPC, EDQUOT, ERROR_DISK_FULL).</summary>
    public bool DiskFull => IsDiskFull(InnerException);

    /// <summary>Whether <paramref name="e"/> reports a full device or quota.</summary>
    public static bool IsDiskFull(Exception? e) => e is IOException && (e.HResult & 0xFFFF) is 28 /* ENOSPC */ or 122 /* EDQUOT */ or 112 /* ERROR_DISK_FULL */ or 39 /* ERROR_HANDLE_DISK_FULL */;
}
