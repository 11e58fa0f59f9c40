using System.Globalization;

namespace Splade.Cli.Bench;

/// <summary>Median and range of one metric over the runs.</summary>
internal sealed record Stat(double Median, double Min, double Max)
{
    public static Stat Of(IEnumerable<double> values)
    {
        double[] v = values.OrderBy(x => x).ToArray();
        double median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        return new Stat(median, v[0], v[^1]);
    }

    public Stat Scale(double factor) => new(Median * factor, Min * factor, Max * factor);

    /// <summary>"median (min–max)".</summary>
    public string Format(string f) => string.Create(CultureInfo.InvariantCulture, $"{Median.ToString(f, CultureInfo.InvariantCulture)} ({Min.ToString(f, CultureInfo.InvariantCulture)}-{Max.ToString(f, CultureInfo.InvariantCulture)})");
}

/// <summary>One GEMM shape: single-thread GFLOP/s per CPU second, % of the FMA peak, and all-thread wall GFLOP/s.</summary>
internal sealed record GemmResult(string Shape, double GflopsOneThread, double PercentOfPeak, double GflopsAllThreadsWall);

/// <summary>Everything measured for one engine.</summary>
internal sealed class EngineSummary
{
    public required Stat Docs80PerSecond { get; init; }
    public required Stat Docs256PerSecond { get; init; }
    public required Stat QueryP50Ms { get; init; }
    public required Stat QueryP99Ms { get; init; }
    public required Stat CpuMsPerDoc80 { get; init; }
    public required Stat CpuMsPerDoc256 { get; init; }
    public required Stat CpuMsPerQuery { get; init; }
    public required Stat Gflops80 { get; init; }
    public required Stat Gflops256 { get; init; }
    public required double Memory32x512AboveBaselineMb { get; init; }
    public required double PeakWorkingSetMb { get; init; }
    public long? ManagedBytesAllocatedPerBatch80 { get; init; }
}

/// <summary>The result of `splade bench`, printed as a table or serialised as JSON.</summary>
internal sealed class BenchReport
{
    public required string Model { get; init; }
    public required int Threads { get; init; }
    public required int Runs { get; init; }
    public required double SecondsPerMeasurement { get; init; }
    public required string LoadAverageStart { get; init; }
    public required string LoadAverageEnd { get; init; }
    /// <summary>Tokens of the short and long documents (80 and 256 unless the position table is shorter).</summary>
    public required int ShortLength { get; init; }
    public required int LongLength { get; init; }
    public required double FlopsPerDocument80 { get; init; }
    public required double FlopsPerDocument256 { get; init; }
    public required double PeakGflopsOneThreadPerCpuSecond { get; init; }
    public required double PeakGflopsOneThreadWall { get; init; }
    public required double PeakGflopsAllThreadsWall { get; init; }
    public required IReadOnlyList<GemmResult> Gemm { get; init; }
    public required double ModelWorkingSetMb { get; init; }
    public required EngineSummary Splade { get; init; }
    public EngineSummary? OnnxRuntime { get; init; }
    /// <summary>Reduced-precision modes of the same model (by name: int8-decoder, int8), measured in the same runs.</summary>
    public Dictionary<string, EngineSummary> Reduced { get; init; } = new();

    /// <summary>ours / ORT for throughput, ORT / ours for latency would hide direction, so all ratios are ours / ORT.</summary>
    public Dictionary<string, double>? Ratios => OnnxRuntime is null ? null : new()
    {
        ["docs80"] = Splade.Docs80PerSecond.Median / OnnxRuntime.Docs80PerSecond.Median,
        ["docs256"] = Splade.Docs256PerSecond.Median / OnnxRuntime.Docs256PerSecond.Median,
        ["queryP50"] = Splade.QueryP50Ms.Median / OnnxRuntime.QueryP50Ms.Median,
        ["queryP99"] = Splade.QueryP99Ms.Median / OnnxRuntime.QueryP99Ms.Median,
    };

    public void WriteTable(TextWriter w)
    {
        var ic = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(ic, $"model {Model}, {Threads} thread(s), {Runs} run(s) x {SecondsPerMeasurement} s, load average {LoadAverageStart} -> {LoadAverageEnd}"));
        w.WriteLine(string.Create(ic, $"FMA peak: {PeakGflopsOneThreadPerCpuSecond:F1} GFLOP/s per core (per CPU second), {PeakGflopsOneThreadWall:F1} wall 1 thread, {PeakGflopsAllThreadsWall:F1} wall {Threads} threads"));
        foreach (GemmResult g in Gemm)
            w.WriteLine(string.Create(ic, $"GEMM {g.Shape}: {g.GflopsOneThread:F1} GFLOP/s per core = {g.PercentOfPeak:F0}% of peak; {g.GflopsAllThreadsWall:F1} GFLOP/s wall on {Threads} threads"));
        w.WriteLine();
        w.WriteLine("metric (median (min-max) over runs)   splade                      onnxruntime                 splade/ort");
        Row(w, $"docs/s, {ShortLength} tokens, batch 32", Splade.Docs80PerSecond, OnnxRuntime?.Docs80PerSecond, "F1");
        Row(w, $"docs/s, {LongLength} tokens, batch 32", Splade.Docs256PerSecond, OnnxRuntime?.Docs256PerSecond, "F1");
        Row(w, "query p50 ms, 10 tokens", Splade.QueryP50Ms, OnnxRuntime?.QueryP50Ms, "F2");
        Row(w, "query p99 ms, 10 tokens", Splade.QueryP99Ms, OnnxRuntime?.QueryP99Ms, "F2");
        Row(w, $"CPU ms per doc, {ShortLength} tokens", Splade.CpuMsPerDoc80, OnnxRuntime?.CpuMsPerDoc80, "F2");
        Row(w, $"CPU ms per doc, {LongLength} tokens", Splade.CpuMsPerDoc256, OnnxRuntime?.CpuMsPerDoc256, "F2");
        Row(w, "CPU ms per query, 10 tokens", Splade.CpuMsPerQuery, OnnxRuntime?.CpuMsPerQuery, "F2");
        Row(w, $"GFLOP/s (dense equiv.), {ShortLength} tok", Splade.Gflops80, OnnxRuntime?.Gflops80, "F1");
        Row(w, $"GFLOP/s (dense equiv.), {LongLength} tok", Splade.Gflops256, OnnxRuntime?.Gflops256, "F1");
        w.WriteLine(string.Create(ic, $"{"peak MB above baseline, 32x512",-38}{Splade.Memory32x512AboveBaselineMb,-28:F0}{(OnnxRuntime is null ? "" : OnnxRuntime.Memory32x512AboveBaselineMb.ToString("F0", ic)),-28}"));
        w.WriteLine(string.Create(ic, $"{"peak working set MB, 32x512",-38}{Splade.PeakWorkingSetMb,-28:F0}{(OnnxRuntime is null ? "" : OnnxRuntime.PeakWorkingSetMb.ToString("F0", ic)),-28}"));
        w.WriteLine(string.Create(ic, $"model working set {ModelWorkingSetMb:F0} MB; managed bytes allocated per 32 x {ShortLength} batch: {Splade.ManagedBytesAllocatedPerBatch80}"));
        w.WriteLine("CPU ms: process CPU time (all threads, ONNX Runtime's spinning included) per item; useful when the machine is shared.");
        w.WriteLine(string.Create(ic, $"GFLOP/s counts the dense work: {FlopsPerDocument80 / 1e9:F3} GFLOP per {ShortLength}-token and {FlopsPerDocument256 / 1e9:F3} per {LongLength}-token document."));
        foreach (var (mode, e) in Reduced) WriteReduced(w, mode, e);
    }

    /// <summary>One reduced-precision mode: its medians beside float32's and ONNX Runtime's from the same runs.</summary>
    private void WriteReduced(TextWriter w, string mode, EngineSummary e)
    {
        w.WriteLine();
        w.WriteLine($"{"precision " + mode + " (same runs)",-38}{mode,-28}{"/splade fp32",-14}{"/ort",-10}");
        void R(string name, Stat s, Stat fp32, Stat? ort, string f)
        {
            var ic = CultureInfo.InvariantCulture;
            string vsOrt = ort is null ? "-" : (s.Median / ort.Median).ToString("F2", ic) + "x";
            w.WriteLine($"{name,-38}{s.Format(f),-28}{(s.Median / fp32.Median).ToString("F2", ic) + "x",-14}{vsOrt,-10}");
        }
        R($"docs/s, {ShortLength} tokens, batch 32", e.Docs80PerSecond, Splade.Docs80PerSecond, OnnxRuntime?.Docs80PerSecond, "F1");
        R($"docs/s, {LongLength} tokens, batch 32", e.Docs256PerSecond, Splade.Docs256PerSecond, OnnxRuntime?.Docs256PerSecond, "F1");
        R("query p50 ms, 10 tokens", e.QueryP50Ms, Splade.QueryP50Ms, OnnxRuntime?.QueryP50Ms, "F2");
        R("query p99 ms, 10 tokens", e.QueryP99Ms, Splade.QueryP99Ms, OnnxRuntime?.QueryP99Ms, "F2");
        R($"CPU ms per doc, {ShortLength} tokens", e.CpuMsPerDoc80, Splade.CpuMsPerDoc80, OnnxRuntime?.CpuMsPerDoc80, "F2");
        R($"CPU ms per doc, {LongLength} tokens", e.CpuMsPerDoc256, Splade.CpuMsPerDoc256, OnnxRuntime?.CpuMsPerDoc256, "F2");
        R("CPU ms per query, 10 tokens", e.CpuMsPerQuery, Splade.CpuMsPerQuery, OnnxRuntime?.CpuMsPerQuery, "F2");
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"peak MB above baseline, 32x512",-38}{e.Memory32x512AboveBaselineMb,-28:F0}"));
    }

    private static void Row(TextWriter w, string name, Stat ours, Stat? ort, string f)
    {
        string ratio = ort is null ? "" : (ours.Median / ort.Median).ToString("F2", CultureInfo.InvariantCulture) + "x";
        w.WriteLine($"{name,-38}{ours.Format(f),-28}{(ort?.Format(f) ?? "-"),-28}{ratio}");
    }
}
