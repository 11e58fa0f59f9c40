using System.Globalization;
using System.Text.Json;
using Splade.Cli.Bench;
using Splade.Models;

namespace Splade.Cli.Commands;

/// <summary>`splade bench-device`: documents/s, batch-1 latency and device memory of the encoder on a --device.</summary>
internal sealed class BenchDeviceCommand : ICommand
{
    private const int QueryLength = 10;

    public string Name => "bench-device";

    public string Summary => "Measure encoding speed and device memory on --device (cuda, cuda:N, ilgpu-cpu or cpu).";

    public string Usage => """
        splade bench-device --model <folder|owner/name[@rev]> [options]

          --device D       cuda (default), cuda:N, ilgpu-cpu or cpu
          --precision P    fp32 (default) or fp16 (fp16 GEMM inputs, fp32 accumulation; not on cpu)
          --batch N        documents per forward pass (default 256)
          --lengths L,...  document lengths in tokens, [CLS] and [SEP] included (default 80,256; clamped to the position table)
          --runs R         repetitions of every measurement (default 3); median, min and max are reported
          --seconds S      seconds per measurement (default 2)
          --threads N      CPU threads (tokenization-free here; the cpu device computes on them)
          --json           print one JSON object instead of the table

        Inputs are synthetic token ids ([CLS] words [SEP]) fed to the network directly (no tokenizer),
        so the figures are the forward pass and the copy of the non-zeros back to the host. Latency is
        of 10-token queries one at a time (p50/p99). Device memory is what the backend allocated itself
        (weights, activations, one decoder chunk of logits); the CUDA context and cuBLAS workspace are not included.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string model0 = args.Require("model");
        string device = DeviceOption.Parse(args.Get("device") ?? "cuda");
        int batchSize = args.GetInt("batch", min: 1, max: 65536) ?? 256;
        int runs = args.GetInt("runs", min: 1, max: 100) ?? 3;
        double seconds = args.GetDouble("seconds") ?? 2;
        if (seconds <= 0) throw new CliException("--seconds must be positive.");
        int[] lengths = (args.Get("lengths") ?? "80,256").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 2 ? v : throw new CliException($"--lengths: '{s}' is not a length of at least 2."))
            .ToArray();
        if (lengths.Length == 0) throw new CliException("--lengths: give at least one length.");
        int? threads = args.GetInt("threads", min: 1, max: 1024);
        EncodePrecision precision = PrecisionOption.Get(args);
        bool json = args.Flag("json");
        args.ThrowOnUnused();

        string load0 = LoadAverage();
        using SparseEncoder encoder = ModelLoading.Load(model0, threads, context.Stderr, precision: precision, device: device);
        SpladeModel model = encoder.Model;
        if (!model.HasMlmHead || model.Pooling is null) throw new CliException($"{encoder.ModelPath} has no MLM head with SpladePooling; nothing to benchmark.");
        BertConfig config = model.Config;
        long weightBytes = model.Backend?.DeviceMemoryBytes ?? 0;
        long peakBytes = weightBytes;
        void Encode(int[][] batch)
        {
            model.Forward(batch);
            if (model.Backend is { } b) peakBytes = Math.Max(peakBytes, b.DeviceMemoryBytes);
        }

        var rows = new List<LengthResult>();
        foreach (int requested in lengths.Distinct())
        {
            int length = Math.Min(requested, config.MaxPositionEmbeddings);
            int[][][] batches = Enumerable.Range(0, 2).Select(k => Workload.Sequences(batchSize, length, config.VocabSize, seed: 17 + k)).ToArray();
            var perRun = new List<double>();
            for (int r = 0; r < runs; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                perRun.Add(Workload.Throughput(Encode, batches, seconds, out _));
                if (!json) context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {r + 1}/{runs} length {length}: {perRun[^1]:F1} docs/s"));
            }
            rows.Add(new LengthResult(length, batchSize, Median(perRun), perRun.Min(), perRun.Max(), Median(perRun) * length));
        }
        int[][] queries = Workload.Sequences(64, Math.Min(QueryLength, config.MaxPositionEmbeddings), config.VocabSize, seed: 5);
        var p50 = new List<double>();
        var p99 = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double[] lat = Workload.Latencies(Encode, queries, seconds, out _);
            p50.Add(Workload.Quantile(lat, 0.5));
            p99.Add(Workload.Quantile(lat, 0.99));
        }
        var report = new DeviceBenchReport
        {
            Model = encoder.ModelPath,
            Device = encoder.Device,
            Precision = PrecisionOption.Name(precision),
            Description = model.Backend?.Description ?? $"managed CPU kernels, {model.Threads} thread(s)",
            Runs = runs,
            SecondsPerMeasurement = seconds,
            LoadAverageStart = load0,
            LoadAverageEnd = LoadAverage(),
            Documents = rows,
            QueryTokens = queries[0].Length,
            QueryLatencyP50Ms = Median(p50),
            QueryLatencyP99Ms = Median(p99),
            DeviceWeightBytes = weightBytes,
            DevicePeakBytes = peakBytes,
        };
        if (json) context.Stdout.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        else report.WriteTable(context.Stdout);
        return Task.FromResult(0);
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }
}

/// <summary>Throughput at one document length: median and range over the runs, documents and tokens per second.</summary>
internal sealed record LengthResult(int Tokens, int Batch, double DocsPerSecond, double DocsPerSecondMin, double DocsPerSecondMax, double TokensPerSecond);

/// <summary>What `splade bench-device` measured.</summary>
internal sealed class DeviceBenchReport
{
    public required string Model { get; init; }
    public required string Device { get; init; }
    public required string Precision { get; init; }
    public required string Description { get; init; }
    public required int Runs { get; init; }
    public required double SecondsPerMeasurement { get; init; }
    public required string LoadAverageStart { get; init; }
    public required string LoadAverageEnd { get; init; }
    public required IReadOnlyList<LengthResult> Documents { get; init; }
    public required int QueryTokens { get; init; }
    public required double QueryLatencyP50Ms { get; init; }
    public required double QueryLatencyP99Ms { get; init; }
    /// <summary>Device bytes of the uploaded weights (0 on cpu).</summary>
    public required long DeviceWeightBytes { get; init; }
    /// <summary>Largest device allocation of the backend seen during the runs (weights included; 0 on cpu).</summary>
    public required long DevicePeakBytes { get; init; }

    public void WriteTable(TextWriter w)
    {
        var ic = CultureInfo.InvariantCulture;
        w.WriteLine($"model {Model}");
        w.WriteLine($"device {Device} ({Precision}): {Description}");
        w.WriteLine(string.Create(ic, $"{Runs} run(s) x {SecondsPerMeasurement} s, load average {LoadAverageStart} -> {LoadAverageEnd}"));
        w.WriteLine();
        w.WriteLine("tokens  batch   docs/s (median)   min – max            tokens/s");
        foreach (LengthResult d in Documents)
            w.WriteLine(string.Create(ic, $"{d.Tokens,6}  {d.Batch,5}   {d.DocsPerSecond,15:F1}   {d.DocsPerSecondMin:F1} – {d.DocsPerSecondMax:F1}   {d.TokensPerSecond,12:F0}"));
        w.WriteLine(string.Create(ic, $"query latency ({QueryTokens} tokens, batch 1): p50 {QueryLatencyP50Ms:F2} ms, p99 {QueryLatencyP99Ms:F2} ms"));
        w.WriteLine(string.Create(ic, $"device memory: weights {DeviceWeightBytes / 1048576.0:F1} MiB, peak {DevicePeakBytes / 1048576.0:F1} MiB (backend allocations only)"));
    }
}
