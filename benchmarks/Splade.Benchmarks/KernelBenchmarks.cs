using BenchmarkDotNet.Attributes;
using Splade.Tensors;

namespace Splade.Benchmarks;

/// <summary>The encoder's GEMM shapes for a batch of 32 × 80 tokens (hidden 256, intermediate 1024).</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _x = [], _y = [];
    private PackedMatrix _w = null!;
    private readonly ComputePool _pool = new(Environment.ProcessorCount);

    /// <summary>name: N x K of the weight.</summary>
    [Params("qkv:768x256", "attention.output:256x256", "intermediate:1024x256", "output:256x1024")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private int M => 32 * 80;
    private int N => int.Parse(Shape.Split(':')[1].Split('x')[0]);
    private int K => int.Parse(Shape.Split(':')[1].Split('x')[1]);

    [GlobalSetup]
    public void Setup()
    {
        _x = Data.Random(M * K, 1);
        _w = PackedMatrix.Pack(Data.Random(N * K, 2), N, K, Data.Random(N, 3));
        _y = new float[M * N];
    }

    [Benchmark]
    public void Linear() => Gemm.Linear(_x, M, K, _w, _y, N, Threads == 1 ? ComputePool.Serial : _pool);
}

/// <summary>The MLM decoder [30522 x 256] fused with max pooling: dense, screened (exact; 8-bit and 16-bit integer copies) and the int8 estimate (reduced precision).</summary>
[MemoryDiagnoser]
public class MlmHeadBenchmarks
{
    private const int Vocab = 30522, Hidden = 256;
    private float[] _x = [], _pooled = [];
    private int[] _starts = [], _lengths = [];
    private PackedMatrix _dense = null!;
    private QuantizedMatrix _screened = null!, _screened16 = null!;
    private Int8Matrix _int8 = null!;
    private ComputePool _pool = null!;

    [Params(1, 32)]
    public int Sequences { get; set; }

    [Params(10, 80)]
    public int Length { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pool = new ComputePool(Threads);
        _x = Data.Random(Sequences * Length * Hidden, 4, 1f);
        float[] w = Data.Random(Vocab * Hidden, 5, 0.2f), b = Data.Random(Vocab, 6, 1f).Select(v => v - 12f).ToArray();
        _dense = PackedMatrix.Pack(w, Vocab, Hidden, b);
        _screened = QuantizedMatrix.Pack(w, Vocab, Hidden, b);
        _screened16 = QuantizedMatrix.Pack(w, Vocab, Hidden, b, weightBits: 16);
        _int8 = Int8Matrix.Quantize(w, Vocab, Hidden, b);
        _starts = Enumerable.Range(0, Sequences).Select(s => s * Length).ToArray();
        _lengths = Enumerable.Repeat(Length, Sequences).ToArray();
        _pooled = new float[Sequences * Vocab];
    }

    [Benchmark(Baseline = true)]
    public void Dense() => Gemm.LinearColumnReduce(_x, Hidden, _starts, _lengths, _dense, ColumnReduction.Max, ElementTransform.None, _pooled, _pool);

    [Benchmark]
    public void Screened() => ScreenedColumnMax.Run(_x, Hidden, _starts, _lengths, _screened, _pooled, _pool);

    [Benchmark]
    public void Screened16() => ScreenedColumnMax.Run(_x, Hidden, _starts, _lengths, _screened16, _pooled, _pool);

    [Benchmark]
    public void Int8() => Int8ColumnMax.Run(_x, Hidden, _starts, _lengths, _int8, _pooled, _pool);
}

/// <summary>Multi-head attention (4 heads of 64) over 32 packed sequences.</summary>
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private const int Heads = 4, HeadDim = 64, Hidden = Heads * HeadDim, Sequences = 32;
    private float[] _qkv = [], _context = [], _scratch = [];
    private int[] _starts = [], _lengths = [];
    private ComputePool _pool = null!;

    [Params(10, 80, 256)]
    public int Length { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pool = new ComputePool(Threads);
        int tokens = Sequences * Length;
        _qkv = Data.Random(tokens * 3 * Hidden, 7, 1f);
        _context = new float[tokens * Hidden];
        _scratch = new float[Sequences * Heads * Length];
        _starts = Enumerable.Range(0, Sequences).Select(s => s * Length).ToArray();
        _lengths = Enumerable.Repeat(Length, Sequences).ToArray();
    }

    [Benchmark]
    public void Forward() => Attention.Forward(_qkv, _qkv.AsSpan(Hidden), _qkv.AsSpan(2 * Hidden), 3 * Hidden, _starts, _lengths,
        Heads, HeadDim, 0.125f, default, _context, Hidden, _scratch, _pool);
}

/// <summary>LayerNorm over [2560, 256] and exact GELU over [2560, 1024].</summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    private float[] _hidden = [], _residual = [], _gamma = [], _beta = [], _intermediate = [];

    [GlobalSetup]
    public void Setup()
    {
        _hidden = Data.Random(2560 * 256, 8, 1f);
        _residual = Data.Random(2560 * 256, 9, 1f);
        _gamma = Data.Random(256, 10, 1f);
        _beta = Data.Random(256, 11, 1f);
        _intermediate = Data.Random(2560 * 1024, 12, 3f);
    }

    [Benchmark]
    public void LayerNormAddResidual() => LayerNorm.AddForward(_hidden, _residual, 2560, 256, _gamma, _beta, 1e-12f, _hidden);

    [Benchmark]
    public void Gelu() => Activations.Apply(ElementTransform.Gelu, _intermediate);
}
