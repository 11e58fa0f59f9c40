using BenchmarkDotNet.Attributes;
using Splade.Tensors;

namespace Splade.Benchmarks;

/// <summary>The encoder's GEMM shapes for 32 × 80 tokens in float32 and in the int8 arithmetic of <see cref="Int8Gemm"/>.</summary>
[MemoryDiagnoser]
public class Int8GemmBenchmarks
{
    private float[] _x = [], _y = [];
    private PackedMatrix _w = null!;
    private Int8Matrix _w8 = null!;

    /// <summary>name: N x K of the weight.</summary>
    [Params("qkv:768x256", "intermediate:1024x256", "output:256x1024")]
    public string Shape { get; set; } = "";

    private int M => 32 * 80;
    private int N => int.Parse(Shape.Split(':')[1].Split('x')[0]);
    private int K => int.Parse(Shape.Split(':')[1].Split('x')[1]);

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Random(M * K, 1);
        float[] w = Data.Random(N * K, 2), b = Data.Random(N, 3);
        _w = PackedMatrix.Pack(w, N, K, b);
        _w8 = Int8Matrix.Quantize(w, N, K, b, 127);
        _y = new float[M * N];
    }

    [Benchmark(Baseline = true)]
    public void Float32() => Gemm.Linear(_x, M, K, _w, _y, N, ComputePool.Serial);

    [Benchmark]
    public void Int8() => Int8Gemm.Linear(_x, M, K, _w8, _y, N, ComputePool.Serial);
}
