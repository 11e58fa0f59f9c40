using System.Diagnostics;
using Splade.Models;
using Splade.Tensors;

// Throughput of the SPLADE network on CPU: GEMM GFLOP/s, documents/s and query latency.
// Usage: Splade.ModelBench [model-folder] [threads]
string folder = args.Length > 0 ? args[0] : "/work/shared/data/models/bert-mini-random-splade";
int threads = args.Length > 1 ? int.Parse(args[1]) : 2;
var pool = new ComputePool(threads);
Console.WriteLine($"model {folder}, threads {threads}, Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, panel width {PackedMatrix.DefaultPanelWidth}");

// GEMM [32*80 x 256] x [1024 x 256]^T (the feed-forward up-projection of a batch of 32 80-token documents).
{
    int m = 32 * 80, k = 256, n = 1024;
    float[] x = Random(m * k, 1), w = Random(n * k, 2), b = Random(n, 3);
    PackedMatrix packed = PackedMatrix.Pack(w, n, k, b);
    var y = new float[m * n];
    double seconds = Time(10, () => Gemm.Linear(x, m, k, packed, y, n, pool));
    Console.WriteLine($"GEMM [{m}x{k}]x[{n}x{k}]T: {2.0 * m * n * k / seconds / 1e9:F1} GFLOP/s");
    double serial = Time(5, () => Gemm.Linear(x, m, k, packed, y, n, ComputePool.Serial));
    Console.WriteLine($"GEMM same shape, 1 thread: {2.0 * m * n * k / serial / 1e9:F1} GFLOP/s");
}

SpladeModel model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = threads });
int vocab = model.Dimension, hidden = model.Config.HiddenSize;

// MLM head decoder fused with max pooling: 32 documents of 80 tokens against the [30522 x 256] decoder.
{
    int docs = 32, len = 80, m = docs * len;
    float[] x = Random(m * hidden, 4);
    var packed = PackedMatrix.Pack(Random(vocab * hidden, 5), vocab, hidden, Random(vocab, 6));
    int[] starts = Enumerable.Range(0, docs).Select(i => i * len).ToArray(), lengths = Enumerable.Repeat(len, docs).ToArray();
    var pooled = new float[docs * vocab];
    double seconds = Time(3, () => Gemm.LinearColumnReduce(x, hidden, starts, lengths, packed, ColumnReduction.Max, ElementTransform.None, pooled, pool));
    Console.WriteLine($"MLM head fused max pooling [{m}x{hidden}]x[{vocab}x{hidden}]T: {2.0 * m * vocab * hidden / seconds / 1e9:F1} GFLOP/s ({seconds * 1e3:F1} ms)");
    var logits = new float[(long)len * vocab];
    double full = Time(5, () => Gemm.Linear(x, len, hidden, packed, logits, vocab, pool));
    Console.WriteLine($"MLM head full logits [{len}x{hidden}]x[{vocab}x{hidden}]T: {2.0 * len * vocab * hidden / full / 1e9:F1} GFLOP/s ({full * 1e3:F1} ms)");
}

var rng = new Random(7);
int[] Doc(int length) => [101, .. Enumerable.Range(0, length - 2).Select(_ => rng.Next(1996, 29612)), 102];

foreach (var (length, batchSize, batches) in new[] { (80, 32, 4), (256, 32, 2) })
{
    int[][][] data = Enumerable.Range(0, batches).Select(_ => Enumerable.Range(0, batchSize).Select(_ => Doc(length)).ToArray()).ToArray();
    model.Forward(data[0]); // warm-up and workspace sizing
    var process = Process.GetCurrentProcess();
    TimeSpan cpu0 = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    foreach (int[][] batch in data) model.Forward(batch);
    double s = sw.Elapsed.TotalSeconds;
    process.Refresh();
    double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
    Console.WriteLine($"documents of {length} tokens, batch {batchSize}: {batches * batchSize / s:F1} docs/s wall ({s / batches * 1e3:F0} ms per batch), {batches * batchSize / cpu:F1} docs per CPU-second");
}

{
    int[][] queries = Enumerable.Range(0, 60).Select(_ => Doc(10)).ToArray();
    for (int i = 0; i < 10; i++) model.Forward([queries[i]]);
    var times = new List<double>();
    foreach (int[] q in queries)
    {
        var sw = Stopwatch.StartNew();
        model.Forward([q]);
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    Console.WriteLine($"10-token query latency: p50 {times[times.Count / 2]:F2} ms, p90 {times[(int)(times.Count * 0.9)]:F2} ms");
}

static float[] Random(int count, int seed)
{
    var r = new Random(seed);
    var v = new float[count];
    for (int i = 0; i < count; i++) v[i] = (float)(r.NextDouble() * 2 - 1) * 0.1f;
    return v;
}

// Wall seconds per repetition; also prints the CPU seconds used, since the machine may be shared.
static double Time(int reps, Action action)
{
    action();
    var process = Process.GetCurrentProcess();
    TimeSpan cpu0 = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++) action();
    double wall = sw.Elapsed.TotalSeconds / reps;
    process.Refresh();
    double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds / reps;
    Console.Write($"  [wall {wall * 1e3:F1} ms, cpu {cpu * 1e3:F1} ms] ");
    return wall;
}
