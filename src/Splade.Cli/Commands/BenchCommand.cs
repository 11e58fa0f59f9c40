using System.Globalization;
using System.Text.Json;
using Splade.Cli.Bench;
using Splade.Models;
using Splade.Onnx;
using Splade.Tensors;

namespace Splade.Cli.Commands;

/// <summary>`splade bench`: encoder throughput, latency, GFLOP/s and memory, optionally next to ONNX Runtime.</summary>
internal sealed class BenchCommand : ICommand
{
    private const int Batch = 32, ShortDoc = 80, LongDoc = 256, QueryLength = 10, MemoryLength = 512;

    public string Name => "bench";

    public string Summary => "Measure encoding speed and memory (optionally against ONNX Runtime on the same model).";

    public string Usage => """
        splade bench --model <folder|owner/name[@rev]> [options]

          --onnx FILE      also run this ONNX export (output logits [batch, seq, vocab]) with ONNX Runtime,
                           max pooling done in C#, in this process with the same thread count
          --threads N      compute threads for both engines (default: all cores)
          --runs R         repetitions of every measurement (default 3); medians and min–max are reported
          --seconds S      seconds per measurement (default 2)
          --precision P    also measure reduced-precision modes (int8-decoder, int8, or both comma-separated)
                           in the same interleaved runs as float32
          --json           print one JSON object instead of the table

        Measures documents/s for 80- and 256-token documents in batches of 32, latency p50/p99 of
        10-token queries one at a time, GFLOP/s of the dense computation (encoder, MLM head) against
        the machine's measured FMA peak, GEMM efficiency, and peak memory for a 32 x 512 batch.
        Inputs are synthetic token ids ([CLS] words [SEP]); the machine load average is recorded.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string? onnxPath = args.Get("onnx");
        int runs = args.GetInt("runs", min: 1, max: 100) ?? 3;
        double seconds = args.GetDouble("seconds") ?? 2;
        if (seconds <= 0) throw new CliException("--seconds must be positive.");
        bool json = args.Flag("json");
        string model0 = args.Require("model");
        int? threadsArg = args.GetInt("threads", min: 1, max: 1024);
        EncodePrecision[] reducedModes = (args.Get("precision") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(PrecisionOption.Parse).Where(p => p != EncodePrecision.Float32).Distinct().ToArray();
        args.ThrowOnUnused();
        if (onnxPath is not null && !File.Exists(onnxPath)) throw new CliException($"--onnx: file not found: {onnxPath}");

        string load0 = LoadAverage();
        long before = Memory.WorkingSet();
        SparseEncoder encoder = ModelLoading.Load(model0, threadsArg, context.Stderr);
        SpladeModel model = encoder.Model;
        if (!model.HasMlmHead || model.Pooling is null) throw new CliException($"{encoder.ModelPath} has no MLM head with SpladePooling; nothing to benchmark.");
        long modelBytes = Memory.WorkingSet() - before;
        int threads = model.Threads;
        BertConfig config = model.Config;
        int vocab = config.VocabSize, maxLen = Math.Min(MemoryLength, config.MaxPositionEmbeddings);
        // Shorter position tables (small test models) get shorter documents.
        int shortLen = Math.Min(ShortDoc, config.MaxPositionEmbeddings), longLen = Math.Min(LongDoc, config.MaxPositionEmbeddings);
        var pool = new ComputePool(threads);
        Log(context, json, $"model {encoder.ModelPath}: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, vocab {vocab}; {threads} thread(s); load average {load0}");

        var peak1 = Cpu.FmaPeak(Math.Min(1.0, seconds));
        double peakN = Cpu.FmaPeakParallel(threads, Math.Min(1.0, seconds));
        var gemm = GemmShapes(config, shortLen, peak1.PerCpuSecond, pool);

        int[][][] docs80 = Batches(shortLen, vocab, 1), docs256 = Batches(longLen, vocab, 2);
        int[][] queries = Workload.Sequences(64, QueryLength, vocab, 3);
        Action<int[][]> ours = b => model.Forward(b);

        // Memory of one 32 x 512 batch, before the other engine is loaded into the process.
        ours(docs80[1]); // sizes the workspace for this shape
        long allocated0 = Memory.Allocated();
        ours(docs80[0]);
        long allocatedPerBatch = Memory.Allocated() - allocated0;
        var oursMemory = PeakOf(() => ours(Workload.Sequences(Batch, maxLen, vocab, 5)));
        var reduced = reducedModes.Select(mode => ReducedEngine.Load(encoder.ModelPath, threads, mode, docs80, b => PeakOf(b), Batch, maxLen, vocab)).ToArray();

        OnnxSpladeRunner? ort = onnxPath is null ? null : OpenOnnx(onnxPath, threads);
        Action<int[][]>? theirs = ort is null ? null : b => ort.EncodePooled(b, out _);
        var oursRuns = new List<EngineRun>();
        var ortRuns = new List<EngineRun>();
        for (int r = 0; r < runs; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            oursRuns.Add(Measure(ours, docs80, docs256, queries, seconds));
            Log(context, json, $"run {r + 1}/{runs} splade: {oursRuns[^1]}");
            foreach (ReducedEngine e in reduced)
            {
                e.Runs.Add(Measure(e.Encode, docs80, docs256, queries, seconds));
                Log(context, json, $"run {r + 1}/{runs} splade {PrecisionOption.Name(e.Mode)}: {e.Runs[^1]}");
            }
            if (theirs is not null)
            {
                ortRuns.Add(Measure(theirs, docs80, docs256, queries, seconds));
                Log(context, json, $"run {r + 1}/{runs} onnxruntime: {ortRuns[^1]}");
            }
        }
        (long Peak, long Base)? ortMemory = theirs is null ? null : PeakOf(() => theirs(Workload.Sequences(Batch, maxLen, vocab, 5)));
        ort?.Dispose();

        var report = new BenchReport
        {
            Model = encoder.ModelPath,
            Threads = threads,
            Runs = runs,
            SecondsPerMeasurement = seconds,
            LoadAverageStart = load0,
            LoadAverageEnd = LoadAverage(),
            ShortLength = shortLen,
            LongLength = longLen,
            FlopsPerDocument80 = Workload.Flops(config, shortLen),
            FlopsPerDocument256 = Workload.Flops(config, longLen),
            PeakGflopsOneThreadPerCpuSecond = peak1.PerCpuSecond / 1e9,
            PeakGflopsOneThreadWall = peak1.PerWallSecond / 1e9,
            PeakGflopsAllThreadsWall = peakN / 1e9,
            Gemm = gemm,
            ModelWorkingSetMb = modelBytes / 1e6,
            Splade = Summarise(oursRuns, config, shortLen, longLen, oursMemory, allocatedPerBatch),
            OnnxRuntime = ortRuns.Count == 0 ? null : Summarise(ortRuns, config, shortLen, longLen, ortMemory!.Value, null),
            Reduced = reduced.ToDictionary(e => PrecisionOption.Name(e.Mode), e => Summarise(e.Runs, config, shortLen, longLen, e.Memory, e.AllocatedPerBatch)),
        };
        if (json) context.Stdout.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        else report.WriteTable(context.Stdout);
        return Task.FromResult(0);
    }

    private static int[][][] Batches(int length, int vocab, int seed) =>
        Enumerable.Range(0, 4).Select(i => Workload.Sequences(Batch, length, vocab, seed * 100 + i)).ToArray();

    private static EngineRun Measure(Action<int[][]> encode, int[][][] docs80, int[][][] docs256, int[][] queries, double seconds)
    {
        double d80 = Workload.Throughput(encode, docs80, seconds, out double cpu80);
        double d256 = Workload.Throughput(encode, docs256, seconds, out double cpu256);
        double[] lat = Workload.Latencies(encode, queries, seconds, out double cpuQuery);
        return new EngineRun(d80, d256, Workload.Quantile(lat, 0.5), Workload.Quantile(lat, 0.99), cpu80, cpu256, cpuQuery);
    }

    /// <summary>Peak working set while <paramref name="action"/> runs, and the working set just before.</summary>
    private static (long Peak, long Base) PeakOf(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = Memory.WorkingSet();
        bool reset = Memory.ResetPeak();
        action();
        long peak = reset ? Memory.PeakWorkingSet() : Math.Max(Memory.WorkingSet(), baseline);
        return (peak, baseline);
    }

    private static EngineSummary Summarise(List<EngineRun> runs, BertConfig config, int shortLen, int longLen, (long Peak, long Base) memory, long? allocatedPerBatch)
    {
        Stat docs80 = Stat.Of(runs.Select(r => r.Docs80)), docs256 = Stat.Of(runs.Select(r => r.Docs256));
        return new EngineSummary
        {
            Docs80PerSecond = docs80,
            Docs256PerSecond = docs256,
            QueryP50Ms = Stat.Of(runs.Select(r => r.QueryP50Ms)),
            QueryP99Ms = Stat.Of(runs.Select(r => r.QueryP99Ms)),
            CpuMsPerDoc80 = Stat.Of(runs.Select(r => r.CpuMsPerDoc80)),
            CpuMsPerDoc256 = Stat.Of(runs.Select(r => r.CpuMsPerDoc256)),
            CpuMsPerQuery = Stat.Of(runs.Select(r => r.CpuMsPerQuery)),
            Gflops80 = docs80.Scale(Workload.Flops(config, shortLen) / 1e9),
            Gflops256 = docs256.Scale(Workload.Flops(config, longLen) / 1e9),
            Memory32x512AboveBaselineMb = (memory.Peak - memory.Base) / 1e6,
            PeakWorkingSetMb = memory.Peak / 1e6,
            ManagedBytesAllocatedPerBatch80 = allocatedPerBatch,
        };
    }

    /// <summary>Single-thread GEMM speed on the encoder's shapes (32 × 80 tokens), per CPU second of the thread, against the FMA peak.</summary>
    private static List<GemmResult> GemmShapes(BertConfig c, int shortLen, double peakPerCpuSecond, ComputePool pool)
    {
        int m = Batch * shortLen, h = c.HiddenSize, i = c.IntermediateSize;
        var shapes = new (string Name, int N, int K)[] { ("qkv", 3 * h, h), ("attention.output", h, h), ("intermediate", i, h), ("output", h, i) };
        var results = new List<GemmResult>();
        var rng = new Random(11);
        foreach (var (name, n, k) in shapes)
        {
            float[] x = Fill(m * k, rng), w = Fill(n * k, rng), b = Fill(n, rng);
            PackedMatrix packed = PackedMatrix.Pack(w, n, k, b);
            var y = new float[m * n];
            Gemm.Linear(x, m, k, packed, y, n, ComputePool.Serial);
            double flops = 2.0 * m * n * k;
            int reps = Math.Max(2, (int)(2e9 / flops));
            double cpu0 = Cpu.ThreadSeconds();
            for (int r = 0; r < reps; r++) Gemm.Linear(x, m, k, packed, y, n, ComputePool.Serial);
            double perCpu = flops * reps / (Cpu.ThreadSeconds() - cpu0);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int r = 0; r < reps; r++) Gemm.Linear(x, m, k, packed, y, n, pool);
            double wall = flops * reps / sw.Elapsed.TotalSeconds;
            results.Add(new GemmResult($"{name} [{m}x{k}]x[{k}x{n}]", perCpu / 1e9, 100 * perCpu / peakPerCpuSecond, wall / 1e9));
        }
        return results;
    }

    private static float[] Fill(int count, Random rng)
    {
        var v = new float[count];
        for (int j = 0; j < count; j++) v[j] = (float)(rng.NextDouble() * 2 - 1) * 0.1f;
        return v;
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }

    private static void Log(CliContext context, bool json, string line)
    {
        if (!json) context.Stderr.WriteLine(line);
    }

    /// <summary>Opens the ONNX model; the packaged tool ships without ONNX Runtime's native library, so say how to get it.</summary>
    private static OnnxSpladeRunner OpenOnnx(string path, int threads)
    {
        try
        {
            return new OnnxSpladeRunner(path, threads);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new CliException("--onnx: the ONNX Runtime native library is not available (the `splade` .NET tool does not ship it); " +
                $"run the bench from a clone (dotnet run --project src/Splade.Cli -c Release -- bench ...). {e.GetBaseException().Message}");
        }
    }
}

/// <summary>One run of the three measurements of one engine.</summary>
internal sealed record EngineRun(double Docs80, double Docs256, double QueryP50Ms, double QueryP99Ms, double CpuMsPerDoc80, double CpuMsPerDoc256, double CpuMsPerQuery)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"80 tok {Docs80:F1} docs/s ({CpuMsPerDoc80:F1} cpu-ms/doc), 256 tok {Docs256:F1} docs/s ({CpuMsPerDoc256:F1} cpu-ms/doc), query p50 {QueryP50Ms:F2} ms p99 {QueryP99Ms:F2} ms ({CpuMsPerQuery:F2} cpu-ms/query)");
}
