using BenchmarkDotNet.Attributes;
using Splade.Models;

namespace Splade.Benchmarks;

/// <summary>End-to-end <see cref="SpladeModel.Forward"/> (encoder, MLM head, pooling, sparse output) by batch size and length.</summary>
[MemoryDiagnoser]
public class EncodeBenchmarks
{
    private SpladeModel? _model;
    private int[][] _batch = [];

    [Params(1, 32)]
    public int Batch { get; set; }

    [Params(10, 80, 256)]
    public int Length { get; set; }

    [Params(2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string? folder = Data.ModelFolder;
        if (folder is null)
        {
            Console.WriteLine("EncodeBenchmarks: model folder not found (set SPLADE_BENCH_MODEL); nothing is measured.");
            return;
        }
        _model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = Threads });
        _batch = Data.Sequences(Batch, Length, 13);
    }

    [Benchmark]
    public int Forward() => _model is null ? 0 : _model.Forward(_batch).Length;
}
