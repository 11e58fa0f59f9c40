using Splade.Cli.Commands;
using Splade.Models;

namespace Splade.Cli.Bench;

/// <summary>A reduced-precision copy of the benchmarked model, measured in the same runs as float32.</summary>
internal sealed class ReducedEngine
{
    private ReducedEngine(EncodePrecision mode, SpladeModel model) { Mode = mode; Model = model; }

    public EncodePrecision Mode { get; }
    public SpladeModel Model { get; }
    public List<EngineRun> Runs { get; } = new();
    public (long Peak, long Base) Memory { get; private set; }
    public long AllocatedPerBatch { get; private set; }

    public void Encode(int[][] batch) => Model.Forward(batch);

    /// <summary>Loads <paramref name="folder"/> in <paramref name="mode"/>, warms it up and records its memory as the float32 engine's is.</summary>
    public static ReducedEngine Load(string folder, int threads, EncodePrecision mode, int[][][] docs, Func<Action, (long Peak, long Base)> peakOf, int batch, int maxLen, int vocab)
    {
        var e = new ReducedEngine(mode, SpladeModel.Load(folder, new SpladeModelOptions { Threads = threads, Precision = mode }));
        e.Encode(docs[1]);
        long allocated0 = Splade.Cli.Bench.Memory.Allocated();
        e.Encode(docs[0]);
        e.AllocatedPerBatch = Splade.Cli.Bench.Memory.Allocated() - allocated0;
        e.Memory = peakOf(() => e.Encode(Workload.Sequences(batch, maxLen, vocab, 5)));
        return e;
    }
}
