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

/// <summary>The MLM decoder [30522 x 256] fused with max pooling: exact screened float32 against the int8 estimate.</summary>
[MemoryDiagnoser]
public class Int8MlmHeadBenchmarks
{
    private const int Vocab = 30522, Hidden = 256;
    private float[] _x = [], _pooled = [];
    private int[] _starts = [], _lengths = [];
    private QuantizedMatrix _screened = null!;
    private Int8Matrix _int8 = null!;

    [Params(1, 32)]
    public int Sequences { get; set; }

    [Params(10, 80)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Random(Sequences * Length * Hidden, 4, 1f);
        float[] w = Data.Random(Vocab * Hidden, 5, 0.2f), b = Data.Random(Vocab, 6, 1f).Select(v => v - 12f).ToArray();
        _screened = QuantizedMatrix.Pack(w, Vocab, Hidden, b);
        _int8 = Int8Matrix.Quantize(w, Vocab, Hidden, b);
        _starts = Enumerable.Range(0, Sequences).Select(s => s * Length).ToArray();
        _lengths = Enumerable.Repeat(Length, Sequences).ToArray();
        _pooled = new float[Sequences * Vocab];
    }

    [Benchmark(Baseline = true)]
    public void Screened() => ScreenedColumnMax.Run(_x, Hidden, _starts, _lengths, _screened, _pooled, ComputePool.Serial);

    [Benchmark]
    public void Int8() => Int8ColumnMax.Run(_x, Hidden, _starts, _lengths, _int8, _pooled, ComputePool.Serial);
}
