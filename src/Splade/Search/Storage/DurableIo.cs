using System.Runtime.InteropServices;

namespace Splade.Search.Storage;

/// <summary>
/// The few durable file operations the index needs: write a new file completely and fsync it,
/// atomically replace a file (write temp, fsync, rename, fsync the directory) and fsync a directory.
/// Every step first calls <see cref="Hook"/>, which tests use to simulate a crash at that point.
/// </summary>
internal sealed class DurableIo
{
    private const int ChunkBytes = 1 << 20;

    public DurableIo(Action<string>? hook) => Hook = hook;

    /// <summary>Called with a step name before each write chunk, fsync, rename or delete.</summary>
    public Action<string>? Hook { get; }

    public void Step(string name) => Hook?.Invoke(name);

    /// <summary>Writes <paramref name="data"/> in chunks (each a possible crash point).</summary>
    public void WriteChunked(FileStream stream, ReadOnlySpan<byte> data, string fileName)
    {
        while (data.Length > 0)
        {
            int n = Math.Min(ChunkBytes, data.Length);
            Step($"write {fileName}");
            stream.Write(data[..n]);
            data = data[n..];
        }
    }

    /// <summary>Flushes the file to the device (fsync).</summary>
    public void Fsync(FileStream stream, string fileName)
    {
        Step($"fsync {fileName}");
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="content"/>.</summary>
    public void ReplaceAtomically(string path, ReadOnlySpan<byte> content)
    {
        string tmp = path + ".tmp";
        string name = Path.GetFileName(path);
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            WriteChunked(fs, content, name + ".tmp");
            Fsync(fs, name + ".tmp");
        }
        Step($"rename {name}");
        File.Move(tmp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Deletes a file that is no longer referenced (ignoring one already gone).</summary>
    public void Delete(string path)
    {
        Step($"delete {Path.GetFileName(path)}");
        try { File.Delete(path); }
        catch (IOException) { /* still mapped elsewhere (Windows): removed at the next open */ }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Makes the directory entries (created and renamed files) durable. POSIX only: Windows has no
    /// directory fsync and its MoveFileEx with write-through already covers the rename.
    /// </summary>
    public void FsyncDirectory(string directory)
    {
        Step("fsync directory");
        if (OperatingSystem.IsWindows()) return;
        int fd = Native.open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { Native.fsync(fd); }
        finally { Native.close(fd); }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
