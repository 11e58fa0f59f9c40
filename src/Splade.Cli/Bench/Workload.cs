using System.Diagnostics;
using Splade.Models;

namespace Splade.Cli.Bench;

/// <summary>Synthetic token-id inputs of the benchmark and the arithmetic they cost.</summary>
internal static class Workload
{
    private const int Cls = 101, Sep = 102, FirstWord = 1996, LastWord = 29612;

    /// <summary><paramref name="count"/> sequences of exactly <paramref name="length"/> ids ([CLS] words [SEP]), reproducible from <paramref name="seed"/>.</summary>
    public static int[][] Sequences(int count, int length, int vocab, int seed)
    {
        var rng = new Random(seed);
        int hi = Math.Min(LastWord, vocab);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var ids = new int[length];
            for (int i = 0; i < length; i++) ids[i] = rng.Next(Math.Min(FirstWord, hi - 1), hi);
            ids[0] = Cls < vocab ? Cls : 0;
            ids[^1] = Sep < vocab ? Sep : 0;
            return ids;
        }).ToArray();
    }

    /// <summary>
    /// Floating-point operations (multiply and add counted separately) of the dense computation for
    /// one sequence of <paramref name="n"/> tokens: every encoder GEMM, attention scores and context,
    /// the MLM transform and the [n × hidden]·[hidden × vocab] decoder.
    /// </summary>
    public static double Flops(BertConfig c, int n)
    {
        double h = c.HiddenSize, i = c.IntermediateSize, v = c.VocabSize;
        double perTokenLayer = 2 * h * 3 * h + 2 * h * h + 2 * h * i + 2 * i * h;
        double attentionLayer = 2.0 * 2 * n * (double)n * h;
        double head = 2 * h * h + 2 * h * v;
        return c.NumHiddenLayers * (n * perTokenLayer + attentionLayer) + n * head;
    }

    /// <summary>Runs <paramref name="batch"/> repeatedly for at least <paramref name="seconds"/> (and twice at least); returns sequences per second.</summary>
    /// <remarks><paramref name="cpuMsPerSequence"/> receives the process CPU time per sequence (all threads, spinning included).</remarks>
    public static double Throughput(Action<int[][]> encode, int[][][] batches, double seconds, out double cpuMsPerSequence)
    {
        encode(batches[0]); // warm-up: code paths and buffers
        long sequences = 0;
        int k = 0;
        double cpu0 = ProcessCpuMs();
        var sw = Stopwatch.StartNew();
        while (k < 2 || sw.Elapsed.TotalSeconds < seconds)
        {
            int[][] b = batches[k++ % batches.Length];
            encode(b);
            sequences += b.Length;
        }
        double wall = sw.Elapsed.TotalSeconds;
        cpuMsPerSequence = (ProcessCpuMs() - cpu0) / sequences;
        return sequences / wall;
    }

    /// <summary>CPU milliseconds used by this process so far.</summary>
    public static double ProcessCpuMs()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalMilliseconds;
    }

    /// <summary>Per-call latencies in milliseconds of single-sequence calls over at least <paramref name="seconds"/> (and 50 calls at least), sorted.</summary>
    public static double[] Latencies(Action<int[][]> encode, int[][] queries, double seconds, out double cpuMsPerQuery)
    {
        for (int i = 0; i < 10; i++) encode([queries[i % queries.Length]]);
        var times = new List<double>();
        double cpu0 = ProcessCpuMs();
        var total = Stopwatch.StartNew();
        for (int k = 0; times.Count < 50 || total.Elapsed.TotalSeconds < seconds; k++)
        {
            int[][] one = [queries[k % queries.Length]];
            long t0 = Stopwatch.GetTimestamp();
            encode(one);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        cpuMsPerQuery = (ProcessCpuMs() - cpu0) / times.Count;
        times.Sort();
        return times.ToArray();
    }

    /// <summary>The q-quantile (0..1) of sorted values, nearest rank.</summary>
    public static double Quantile(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
