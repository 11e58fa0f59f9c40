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

    public DurableIo(Action<string>? hook, Action<string, int>? writeHook = null)
    {
        Hook = hook;
        WriteHook = writeHook;
    }

    /// <summary>Called with a step name before each write chunk, fsync, rename or delete.</summary>
    public Action<string>? Hook { get; }

    /// <summary>
    /// The file-system seam for writes: called with the file's path and the byte count before each chunk
    /// is written; tests throw an <see cref="IOException"/> with ENOSPC there to simulate a full disk.
    /// </summary>
    public Action<string, int>? WriteHook { get; }

    /// <summary>The file the last write, fsync or rename was about (named in errors).</summary>
    public string? CurrentPath { get; private set; }

    /// <summary>True once the last <see cref="ReplaceAtomically"/> renamed its file into place (the new state is on disk).</summary>
    public bool Replaced { get; private set; }

    /// <summary>Starts a commit attempt: nothing replaced yet.</summary>
    public void BeginAttempt()
    {
        Replaced = false;
        CurrentPath = null;
    }

    public void Step(string name) => Hook?.Invoke(name);

    /// <summary>Writes <paramref name="data"/> in chunks (each a possible crash point).</summary>
    public void WriteChunked(FileStream stream, ReadOnlySpan<byte> data, string fileName)
    {
        CurrentPath = stream.Name;
        while (data.Length > 0)
        {
            int n = Math.Min(ChunkBytes, data.Length);
            Step($"write {fileName}");
            WriteHook?.Invoke(stream.Name, n);
            stream.Write(data[..n]);
            data = data[n..];
        }
    }

    /// <summary>Flushes the file to the device (fsync).</summary>
    public void Fsync(FileStream stream, string fileName)
    {
        CurrentPath = stream.Name;
        Step($"fsync {fileName}");
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="content"/>.</summary>
    public void ReplaceAtomically(string path, ReadOnlySpan<byte> content)
    {
        Replaced = false;
        string tmp = path + ".tmp";
        string name = Path.GetFileName(path);
        CurrentPath = tmp;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            WriteChunked(fs, content, name + ".tmp");
            Fsync(fs, name + ".tmp");
        }
        CurrentPath = path;
        Step($"rename {name}");
        File.Move(tmp, path, overwrite: true);
        Replaced = true;
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
