using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Splade.Cli.Bench;
using Splade.Tensors;
using Splade.Training.Checkpoint;
using Splade.Training.Losses;
using Splade.Training.Model;
using Splade.Training.Optim;

namespace Splade.Cli.Commands;

/// <summary>
/// `splade bench-train`: one optimizer step on a synthetic batch of the SPLADE-BERT-Mini card's shape,
/// timed against encoding the same tokens with the inference path in the same run.
/// </summary>
internal sealed class BenchTrainCommand : ICommand
{
    private const int Rows = 16, Columns = 4, MaxLength = 256;
    private static readonly double[] MeanLengths = [9, 79, 76, 76]; // query, positive, two negatives (the card's data)

    public string Name => "bench-train";

    public string Summary => "Measure one training step (forward, loss, backward, AdamW) against encoding the same tokens.";

    public string Usage => """
        splade bench-train --model <folder|owner/name[@rev]> [--threads N] [--runs R] [--profile] [--json]

          --threads N   compute threads (default: all cores)
          --runs R      measured repetitions (default 3), after one warm-up; medians and min-max are reported
          --profile     also time every part of the forward and backward (mean seconds per step)
          --json        print one JSON object instead of the table

        The batch is deterministic: 16 rows of (query, positive, 2 negatives) with token lengths drawn
        around the card's means (9 / 79 / 76 / 76, capped at 256), synthetic ids, dropout on, loss
        SpladeLoss(MNRL), AdamW. Each run times one step and the inference encoder on the same 64
        sequences, and reports the ratio step / encode, tokens/s, the training GEMMs' GFLOP/s against
        the measured FMA peak (each GEMM shape of the step timed alone), the step's phases, and the
        peak working set during the step. The machine load average is recorded.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string model0 = args.Require("model");
        int? threadsArg = args.GetInt("threads", min: 1, max: 1024);
        int runs = args.GetInt("runs", min: 1, max: 100) ?? 3;
        bool profile = args.Flag("profile");
        bool json = args.Flag("json");
        args.ThrowOnUnused();

        string load0 = LoadAverage();
        SparseEncoder encoder = ModelLoading.Load(model0, threadsArg, context.Stderr);
        int threads = encoder.Model.Threads;
        var pool = new ComputePool(threads);
        var config = TrainingModelConfig.Load(encoder.ModelPath);
        BertParameters parameters;
        using (var source = new SafeTensorsTensorSource(Path.Combine(encoder.ModelPath, "model.safetensors")))
            parameters = BertParameters.Load(config, source);
        var model = new BertMlmSplade(parameters, dropoutSeed: 1, pool) { Training = true };
        var loss = new SpladeLoss(new SparseMultipleNegativesRankingLoss(1.0), 0.003, 0.005);
        var optimizer = new AdamW(0.9, 0.999, 1e-8, 0.0);

        var sequences = Batch(config.VocabSize, Math.Min(MaxLength, config.MaxPositionEmbeddings));
        int tokens = sequences.Sum(s => s.Length);
        if (!json)
            context.Stderr.WriteLine($"model {encoder.ModelPath}: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, vocab {config.VocabSize}; {threads} thread(s); "
                + $"{Rows}x{Columns} sequences, {tokens} tokens; load average {load0}");

        var peak1 = Cpu.FmaPeak(1.0);
        double peakN = Cpu.FmaPeakParallel(threads, 1.0);

        // Warm-up: code paths, buffers, the inference workspace.
        Step(model, loss, optimizer, sequences, config.VocabSize, out _);
        encoder.Model.Forward(sequences);

        var stepSeconds = new List<double>();
        var encodeSeconds = new List<double>();
        var phases = new List<Phases>();
        long peakBytes = 0;
        var stepProfile = profile ? new StepProfile() : null;
        model.Profile = stepProfile;
        for (int r = 0; r < runs; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            bool reset = Memory.ResetPeak();
            var sw = Stopwatch.StartNew();
            Step(model, loss, optimizer, sequences, config.VocabSize, out Phases ph);
            stepSeconds.Add(sw.Elapsed.TotalSeconds);
            peakBytes = Math.Max(peakBytes, reset ? Memory.PeakWorkingSet() : Memory.WorkingSet());
            phases.Add(ph);
            sw.Restart();
            encoder.Model.Forward(sequences);
            encodeSeconds.Add(sw.Elapsed.TotalSeconds);
        }

        double gemmFlops = GemmFlops(config, tokens);
        var gemms = GemmShapes(config, tokens, peakN, pool);
        var ratios = stepSeconds.Zip(encodeSeconds, (s, e) => s / e).ToList();
        var report = new BenchTrainReport
        {
            Model = encoder.ModelPath,
            Threads = threads,
            Runs = runs,
            LoadAverageStart = load0,
            LoadAverageEnd = LoadAverage(),
            Sequences = sequences.Length,
            Tokens = tokens,
            MeanLengths = Enumerable.Range(0, Columns).Select(c => sequences.Skip(c * Rows).Take(Rows).Average(s => s.Length)).ToArray(),
            StepSeconds = Stat.Of(stepSeconds),
            EncodeSeconds = Stat.Of(encodeSeconds),
            StepOverEncode = Stat.Of(ratios),
            TrainingTokensPerSecond = Stat.Of(stepSeconds.Select(s => tokens / s)),
            EncodeTokensPerSecond = Stat.Of(encodeSeconds.Select(s => tokens / s)),
            ForwardSeconds = Stat.Of(phases.Select(p => p.Forward)),
            LossSeconds = Stat.Of(phases.Select(p => p.Loss)),
            BackwardSeconds = Stat.Of(phases.Select(p => p.Backward)),
            OptimizerSeconds = Stat.Of(phases.Select(p => p.Optimizer)),
            EncoderGemmGflopPerStep = gemmFlops / 1e9,
            EncoderGemmGflopsOverStep = Stat.Of(stepSeconds.Select(s => gemmFlops / s / 1e9)),
            PeakGflopsOneThreadWall = peak1.PerWallSecond / 1e9,
            PeakGflopsAllThreadsWall = peakN / 1e9,
            Gemm = gemms,
            GemmPercentOfPeakWeighted = gemms.Sum(g => g.Gflop) / gemms.Sum(g => g.Gflop / g.Gflops) / (peakN / 1e9) * 100,
            PeakWorkingSetMb = peakBytes / 1e6,
            Profile = stepProfile?.Parts.Select(x => new ProfilePart(x.Part, x.Seconds / runs)).ToList(),
        };
        if (json) context.Stdout.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        else report.WriteTable(context.Stdout);
        return Task.FromResult(0);
    }

    /// <summary>The card-shaped batch in the trainer's order: all queries, then all positives, then each negative column.</summary>
    internal static int[][] Batch(int vocab, int maxLength)
    {
        var rng = new Random(14);
        var result = new int[Rows * Columns][];
        for (int c = 0; c < Columns; c++)
            for (int r = 0; r < Rows; r++)
            {
                // Log-normal around the mean (σ = 0.35), at least [CLS] x [SEP].
                double z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                int len = Math.Clamp((int)Math.Round(MeanLengths[c] * Math.Exp(0.35 * z - 0.35 * 0.35 / 2)), 3, maxLength);
                result[c * Rows + r] = Workload.Sequences(1, len, vocab, 1000 * c + r)[0];
            }
        return result;
    }

    private sealed record Phases(double Forward, double Loss, double Backward, double Optimizer);

    private static void Step(BertMlmSplade model, SpladeLoss loss, AdamW optimizer, int[][] sequences, int vocab, out Phases phases)
    {
        var p = model.Parameters;
        var sw = Stopwatch.StartNew();
        p.ZeroGrad();
        float[] pooled = model.Forward(sequences);
        double forward = sw.Elapsed.TotalSeconds;
        var grad = new float[pooled.Length];
        loss.ForwardBackward(new SparseBatch(pooled, Rows, Columns, vocab), null, grad);
        double lossDone = sw.Elapsed.TotalSeconds;
        model.Backward(grad);
        double backward = sw.Elapsed.TotalSeconds;
        GradientClipping.ClipGlobalNorm(p.All, 1.0);
        optimizer.Update(p.All, 1e-7);
        double end = sw.Elapsed.TotalSeconds;
        phases = new Phases(forward, lossDone - forward, backward - lossDone, end - backward);
    }

    /// <summary>Multiply-add FLOPs of the encoder and MLM-transform GEMMs of one step: forward, dX and dW (3× the forward).</summary>
    private static double GemmFlops(TrainingModelConfig c, int tokens)
    {
        double h = c.HiddenSize, i = c.IntermediateSize;
        double forward = c.NumHiddenLayers * 2.0 * tokens * (3 * h * h + h * h + 2 * h * i) + 2.0 * tokens * h * h;
        return 3 * forward;
    }

    /// <summary>Each GEMM of the step (forward, dX, dW per layer shape) on all threads, wall GFLOP/s against the all-thread FMA peak.</summary>
    private static List<TrainGemmResult> GemmShapes(TrainingModelConfig c, int m, double peakAllThreads, ComputePool pool)
    {
        int h = c.HiddenSize, i = c.IntermediateSize;
        var shapes = new (string Name, int N, int K)[] { ("qkv", 3 * h, h), ("attention.output", h, h), ("intermediate", i, h), ("output", h, i) };
        var results = new List<TrainGemmResult>();
        var rng = new Random(11);
        foreach (var (name, n, k) in shapes)
        {
            float[] x = Fill(m * k, rng), w = Fill(n * k, rng), b = Fill(n, rng), dy = Fill(m * n, rng);
            float[] y = new float[m * n], dx = new float[m * k], dw = new float[n * k], db = new float[n];
            double flops = 2.0 * m * n * k;
            results.Add(Time($"{name} forward [{m}x{k}]x[{k}x{n}]", flops, peakAllThreads, () => Gemm.Linear(x, m, k, PackedMatrix.Pack(w, n, k, b), y, n, pool)));
            results.Add(Time($"{name} dX [{m}x{n}]x[{n}x{k}]", flops, peakAllThreads, () => Gemm.BackwardInput(dy, m, n, PackedMatrix.PackTransposed(w, n, k, k, pool), dx, k, false, pool)));
            results.Add(Time($"{name} dW [{n}x{m}]x[{m}x{k}]", flops, peakAllThreads, () => Gemm.BackwardWeight(x, dy, m, k, n, dw, db, pool)));
        }
        return results;
    }

    /// <summary>Best of five timed calls after one warm-up (packing included, as in the step).</summary>
    private static TrainGemmResult Time(string shape, double flops, double peak, Action run)
    {
        run();
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            var sw = Stopwatch.StartNew();
            run();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        double gflops = flops / best / 1e9;
        return new TrainGemmResult(shape, flops / 1e9, gflops, 100 * gflops / (peak / 1e9));
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
}

/// <summary>Mean seconds per step spent in one part of the forward or backward.</summary>
internal sealed record ProfilePart(string Part, double Seconds);

/// <summary>One GEMM of the training step: GFLOP, wall GFLOP/s on all threads, % of the all-thread FMA peak.</summary>
internal sealed record TrainGemmResult(string Shape, double Gflop, double Gflops, double PercentOfPeak);

/// <summary>Everything `splade bench-train` measures.</summary>
internal sealed class BenchTrainReport
{
    public required string Model { get; init; }
    public required int Threads { get; init; }
    public required int Runs { get; init; }
    public required string LoadAverageStart { get; init; }
    public required string LoadAverageEnd { get; init; }
    public required int Sequences { get; init; }
    public required int Tokens { get; init; }
    public required double[] MeanLengths { get; init; }
    public required Stat StepSeconds { get; init; }
    public required Stat EncodeSeconds { get; init; }
    public required Stat StepOverEncode { get; init; }
    public required Stat TrainingTokensPerSecond { get; init; }
    public required Stat EncodeTokensPerSecond { get; init; }
    public required Stat ForwardSeconds { get; init; }
    public required Stat LossSeconds { get; init; }
    public required Stat BackwardSeconds { get; init; }
    public required Stat OptimizerSeconds { get; init; }
    public required double EncoderGemmGflopPerStep { get; init; }
    public required Stat EncoderGemmGflopsOverStep { get; init; }
    public required double PeakGflopsOneThreadWall { get; init; }
    public required double PeakGflopsAllThreadsWall { get; init; }
    public required List<TrainGemmResult> Gemm { get; init; }
    public required double GemmPercentOfPeakWeighted { get; init; }
    public required double PeakWorkingSetMb { get; init; }
    public List<ProfilePart>? Profile { get; init; }

    public void WriteTable(TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(ci, $"model {Model}, {Threads} thread(s), {Runs} run(s), load average {LoadAverageStart} -> {LoadAverageEnd}"));
        o.WriteLine(string.Create(ci, $"batch: {Sequences} sequences, {Tokens} tokens (mean lengths {string.Join(" / ", MeanLengths.Select(l => l.ToString("F1", ci)))})"));
        o.WriteLine("                           median (min-max)");
        o.WriteLine($"train step s               {StepSeconds.Format("F3")}");
        o.WriteLine($"  forward s                {ForwardSeconds.Format("F3")}");
        o.WriteLine($"  loss s                   {LossSeconds.Format("F3")}");
        o.WriteLine($"  backward s               {BackwardSeconds.Format("F3")}");
        o.WriteLine($"  clip + AdamW s           {OptimizerSeconds.Format("F3")}");
        o.WriteLine($"encode same tokens s       {EncodeSeconds.Format("F3")}");
        o.WriteLine($"ratio step / encode        {StepOverEncode.Format("F2")}");
        o.WriteLine($"training tokens/s          {TrainingTokensPerSecond.Format("F0")}");
        o.WriteLine($"encode tokens/s            {EncodeTokensPerSecond.Format("F0")}");
        o.WriteLine(string.Create(ci, $"encoder GEMMs per step     {EncoderGemmGflopPerStep:F1} GFLOP (forward + dX + dW); over the whole step {EncoderGemmGflopsOverStep.Format("F1")} GFLOP/s"));
        o.WriteLine(string.Create(ci, $"FMA peak                   {PeakGflopsOneThreadWall:F1} GFLOP/s one thread, {PeakGflopsAllThreadsWall:F1} GFLOP/s all threads (wall)"));
        o.WriteLine(string.Create(ci, $"training GEMMs alone       {GemmPercentOfPeakWeighted:F0}% of the all-thread peak (FLOP-weighted):"));
        foreach (var g in Gemm)
            o.WriteLine(string.Create(ci, $"  {g.Shape,-44} {g.Gflops,7:F1} GFLOP/s {g.PercentOfPeak,5:F0}%"));
        o.WriteLine(string.Create(ci, $"peak working set (step)    {PeakWorkingSetMb:F0} MB"));
        if (Profile is null) return;
        o.WriteLine("where a step's time goes (mean s per step, all layers):");
        foreach (var part in Profile)
            o.WriteLine(string.Create(ci, $"  {part.Part,-44} {part.Seconds,7:F3}"));
    }
}
