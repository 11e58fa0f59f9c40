using System.Diagnostics;

namespace Splade.Cli.Bench;

/// <summary>Process memory probes: resident set now, its high-water mark, and managed heap figures.</summary>
internal static class Memory
{
    /// <summary>Resets the kernel's peak resident-set counter (Linux); false where unsupported.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>Current working set in bytes.</summary>
    public static long WorkingSet()
    {
        using var p = Process.GetCurrentProcess();
        return p.WorkingSet64;
    }

    /// <summary>Peak working set in bytes (since start or the last <see cref="ResetPeak"/>).</summary>
    public static long PeakWorkingSet()
    {
        using var p = Process.GetCurrentProcess();
        return p.PeakWorkingSet64;
    }

    /// <summary>Bytes allocated on the managed heap by all threads so far.</summary>
    public static long Allocated() => GC.GetTotalAllocatedBytes(precise: false);
}
