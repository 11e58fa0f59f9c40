using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Splade.Cli.Bench;

/// <summary>CPU time of the calling thread and the machine's single-precision FMA peak.</summary>
internal static unsafe partial class Cpu
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, TimeSpec* time);

    /// <summary>Seconds of CPU the calling thread has used (falls back to process CPU time off Linux).</summary>
    public static double ThreadSeconds()
    {
        if (OperatingSystem.IsLinux())
        {
            TimeSpec ts;
            if (ClockGetTime(ClockThreadCpuTime, &ts) == 0) return ts.Seconds + ts.Nanoseconds * 1e-9;
        }
        return System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    /// <summary>
    /// FLOP/s of one thread running independent fused multiply-adds on registers only (12 chains,
    /// enough to cover FMA latency × throughput), per second of that thread's CPU time and per wall second.
    /// </summary>
    public static (double PerCpuSecond, double PerWallSecond) FmaPeak(double seconds)
    {
        long iterations = 0;
        double cpu0 = ThreadSeconds();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        float sink = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            sink += Vector512.IsHardwareAccelerated ? Loop512(1 << 20) : Loop256(1 << 20);
            iterations += 1 << 20;
        }
        double wall = sw.Elapsed.TotalSeconds, cpu = ThreadSeconds() - cpu0;
        if (sink == 12345.678f) Console.Error.Write(""); // keeps the loop alive
        double lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        double flops = iterations * 12 * lanes * 2;
        return (flops / cpu, flops / wall);
    }

    /// <summary>Peak FLOP/s of <paramref name="threads"/> threads running <see cref="FmaPeak"/> at once (wall time).</summary>
    public static double FmaPeakParallel(int threads, double seconds)
    {
        var results = new double[threads];
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() => results[i] = FmaPeak(seconds).PerWallSecond)).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        return results.Sum();
    }

    private static float Loop512(int n)
    {
        Vector512<float> a = Vector512.Create(1.0000001f), b = Vector512.Create(0.9999999f);
        Vector512<float> c0 = Vector512.Create(0f), c1 = Vector512.Create(1f), c2 = Vector512.Create(2f), c3 = Vector512.Create(3f);
        Vector512<float> c4 = Vector512.Create(4f), c5 = Vector512.Create(5f), c6 = Vector512.Create(6f), c7 = Vector512.Create(7f);
        Vector512<float> c8 = Vector512.Create(8f), c9 = Vector512.Create(9f), c10 = Vector512.Create(10f), c11 = Vector512.Create(11f);
        for (int i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    private static float Loop256(int n)
    {
        Vector256<float> a = Vector256.Create(1.0000001f), b = Vector256.Create(0.9999999f);
        Vector256<float> c0 = Vector256.Create(0f), c1 = Vector256.Create(1f), c2 = Vector256.Create(2f), c3 = Vector256.Create(3f);
        Vector256<float> c4 = Vector256.Create(4f), c5 = Vector256.Create(5f), c6 = Vector256.Create(6f), c7 = Vector256.Create(7f);
        Vector256<float> c8 = Vector256.Create(8f), c9 = Vector256.Create(9f), c10 = Vector256.Create(10f), c11 = Vector256.Create(11f);
        for (int i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
