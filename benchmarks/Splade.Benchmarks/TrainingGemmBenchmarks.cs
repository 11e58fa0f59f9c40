using BenchmarkDotNet.Attributes;
using Splade.Tensors;

namespace Splade.Benchmarks;

/// <summary>
/// The training GEMMs of the card's batch (16 rows of query + positive + 2 negatives, about 3,930 tokens;
/// hidden 256, intermediate 1024): the forward product and its two backward products, packing included
/// (training repacks the weights every step); dW also on the packed path it replaced, for comparison.
/// </summary>
[MemoryDiagnoser]
public class TrainingGemmBenchmarks
{
    private const int M = 3933;
    private float[] _x = [], _w = [], _b = [], _y = [], _dy = [], _dx = [], _dw = [], _db = [];
    private readonly ComputePool _pool = new(Environment.ProcessorCount);

    /// <summary>name: N x K of the weight.</summary>
    [Params("qkv:768x256", "attention.output:256x256", "intermediate:1024x256", "output:256x1024")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private int N => int.Parse(Shape.Split(':')[1].Split('x')[0]);
    private int K => int.Parse(Shape.Split(':')[1].Split('x')[1]);
    private ComputePool Pool => Threads == 1 ? ComputePool.Serial : _pool;

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Random(M * K, 1);
        _w = Data.Random(N * K, 2);
        _b = Data.Random(N, 3);
        _dy = Data.Random(M * N, 4);
        _y = new float[M * N];
        _dx = new float[M * K];
        _dw = new float[N * K];
        _db = new float[N];
    }

    [Benchmark(Baseline = true)]
    public void Forward() => Gemm.Linear(_x, M, K, PackedMatrix.Pack(_w, N, K, _b), _y, N, Pool);

    [Benchmark]
    public void BackwardInput() => Gemm.BackwardInput(_dy, M, N, PackedMatrix.PackTransposed(_w, N, K, K, Pool), _dx, K, accumulate: false, Pool);

    [Benchmark]
    public void BackwardWeight() => Gemm.BackwardWeight(_x, _dy, M, K, N, _dw, _db, Pool);

    /// <summary>dW alone on the Linear kernel with dY transposed and X packed (the path without Vector512), for comparison.</summary>
    [Benchmark]
    public void BackwardWeightPacked() => Gemm.BackwardWeightPacked(_x, _dy, M, K, N, _dw, Pool);

    /// <summary>dW alone on <see cref="WeightGradient"/> (the Vector512 path of BackwardWeight, without the bias sums).</summary>
    [Benchmark]
    public void BackwardWeightInPlace()
    {
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) WeightGradient.Accumulate(_x, _dy, M, K, N, _dw, Pool);
    }
}
