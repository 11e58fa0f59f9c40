using System.Diagnostics;

namespace Splade.Tests.Faults;

/// <summary>
/// A real size-limited file system for disk-full tests: a tmpfs mounted on a fresh folder (needs the
/// right to mount, e.g. root in a container with CAP_SYS_ADMIN). <see cref="TryMount"/> returns null
/// where mounting is not permitted, and the test skips with a SKIPPED note.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk? TryMount(long bytes, out string why)
    {
        why = "";
        if (!OperatingSystem.IsLinux()) { why = "not Linux"; return null; }
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"splade-smalldisk-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        var (code, err) = Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            why = $"mount not permitted ({err.Trim()})";
            return null;
        }
        return new SmallDisk(path);
    }

    /// <summary>Makes room: the same files, a larger size.</summary>
    public void Grow(long bytes)
    {
        var (code, err) = Run("mount", "-o", $"remount,size={bytes}", Path);
        if (code != 0) throw new InvalidOperationException($"remount failed: {err}");
    }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    private static (int Code, string Stderr) Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, err);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
