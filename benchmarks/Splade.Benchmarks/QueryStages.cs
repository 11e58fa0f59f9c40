using System.Diagnostics;
using Splade.Models;
using Splade.Tensors;

namespace Splade.Benchmarks;

/// <summary>
/// Where a 10-token query's time goes: Stopwatch around each stage of the fused forward pass
/// (embeddings, each layer, MLM transform, screened decoder max, log1p and the sparse vector) over
/// many queries, with the number of exact dot products the screen needed. Median and 10th
/// percentile per stage; the 10th percentile is the steadier one on a shared machine.
/// Run: <c>dotnet run -c Release --project benchmarks/Splade.Benchmarks -- stages [threads] [queries] [8|16]</c>
/// (the last argument: width of the screen's integer copy for the screen stage).
/// </summary>
internal static class QueryStages
{
    public static void Run(int threads, int queries, int? screenBits = null)
    {
        string? folder = Data.ModelFolder;
        if (folder is null) { Console.WriteLine("model folder not found (set SPLADE_BENCH_MODEL)"); return; }
        SpladeModel model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = threads });
        BertForMaskedLM mlm = model.MaskedLM ?? throw new InvalidOperationException($"{folder} has no MLM head.");
        ComputePool pool = model.Pool;
        SpladePoolingConfig pooling = model.Pooling!;
        QuantizedMatrix decoder = mlm.Head.ScreenedDecoder ?? throw new InvalidOperationException("No screened decoder on this machine.");
        // Another width of the integer copy for the screen stage (the whole forward keeps the model's own).
        if (screenBits is int bits && bits != decoder.WeightBits)
            decoder = QuantizedMatrix.Pack(decoder.Rows, decoder.N, decoder.K, decoder.Bias.AsSpan(0, decoder.N), bits);
        int[][] inputs = Data.Sequences(64, 10, 3);
        var ws = new BertWorkspace(model.Config);
        int layers = mlm.Bert.Layers.Count, hidden = model.Config.HiddenSize, vocab = model.Dimension;
        string[] names = ["forward (whole)", "embeddings", .. Enumerable.Range(0, layers).Select(l => $"layer {l}"), "MLM transform", "screened decoder max", "log1p + sparse vector"];
        var times = names.Select(_ => new List<double>()).ToArray();
        long dots = 0;
        int warm = Math.Max(10, queries / 4);
        for (int it = 0; it < warm + queries; it++)
        {
            int[] ids = inputs[it % inputs.Length];
            long f0 = Stopwatch.GetTimestamp();
            model.Forward([ids]);
            double whole = Stopwatch.GetElapsedTime(f0).TotalMicroseconds;

            var batch = TokenBatch.FromSequences([ids], model.Config.VocabSize, model.Config.MaxPositionEmbeddings);
            ws.EnsureCapacity(batch, pooled: true);
            var stamps = new long[layers + 5];
            stamps[0] = Stopwatch.GetTimestamp();
            mlm.Bert.Embeddings.Forward(batch, ws.Hidden.AsSpan(0, batch.TokenCount * hidden));
            stamps[1] = Stopwatch.GetTimestamp();
            for (int l = 0; l < layers; l++) { mlm.Bert.Layers[l].Forward(batch, ws, pool); stamps[2 + l] = Stopwatch.GetTimestamp(); }
            mlm.Head.Transform(ws.Hidden, batch.TokenCount, ws.Context, pool);
            stamps[layers + 2] = Stopwatch.GetTimestamp();
            long d0 = ScreenedColumnMax.ExactDotCount;
            ScreenedColumnMax.Run(ws.Context, hidden, batch.Starts, batch.Lengths, decoder, ws.Pooled, pool);
            long d1 = ScreenedColumnMax.ExactDotCount;
            stamps[layers + 3] = Stopwatch.GetTimestamp();
            SpladePooling.ApplyPerRow(pooling.Transform, ws.Pooled, 1, vocab, pool);
            _ = SpladePooling.ToSparse(ws.Pooled.AsSpan(0, vocab));
            stamps[layers + 4] = Stopwatch.GetTimestamp();
            if (it < warm) continue;
            dots += d1 - d0;
            times[0].Add(whole);
            for (int i = 1; i < stamps.Length; i++) times[i].Add(Stopwatch.GetElapsedTime(stamps[i - 1], stamps[i]).TotalMicroseconds);
        }
        Console.WriteLine($"{folder}: {threads} thread(s), {queries} queries of 10 tokens, {decoder.WeightBits}-bit screen, {dots / (double)queries:F1} exact dot products per query");
        for (int i = 0; i < names.Length; i++)
        {
            double[] sorted = [.. times[i].Order()];
            Console.WriteLine($"{names[i],-24} median {sorted[sorted.Length / 2],8:F1} µs   p10 {sorted[sorted.Length / 10],8:F1} µs");
        }
    }
}
