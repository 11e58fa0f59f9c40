namespace Splade.Hub;

/// <summary>
/// An exclusive lock on <c>.locks/models--{owner}--{name}/{etag}.lock</c> so that two processes never write the same
/// blob. On Unix, .NET takes <c>flock(LOCK_EX)</c> for <see cref="FileShare.None"/>, the lock Python's <c>filelock</c> uses.
/// The lock file is left in place (deleting it would let a third process lock a different inode).
/// </summary>
internal sealed class BlobLock : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private readonly FileStream _stream;

    private BlobLock(FileStream stream) => _stream = stream;

    public static async Task<BlobLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new BlobLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new HubException($"Waited {timeout.TotalSeconds:0.#} s for the lock '{path}': another process is downloading the same file. "
                    + "If no such process runs, delete the lock file.", e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
