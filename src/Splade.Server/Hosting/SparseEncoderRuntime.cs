using Splade.Search;
using Splade.Server.Http;
using Splade.Server.Metrics;

namespace Splade.Server.Hosting;

/// <summary>
/// The one loaded encoder of an application and what its endpoints share (a DI singleton): the
/// serving state, the request pipeline, and whether the warm-up has run. Disposing it stops the
/// batcher and closes the index when this object opened it.
/// </summary>
internal sealed class SparseEncoderRuntime : IDisposable
{
    private readonly bool _ownsIndex;
    private volatile bool _ready;
    private int _disposed;

    public SparseEncoderRuntime(SparseEncoder encoder, ServerOptions options, bool ownsIndex, bool warmUp)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        options.Validate();
        var metrics = new ServerMetrics();
        State = new ServingState(encoder, options, metrics);
        Pipeline = new RequestPipeline(options, metrics, State.Lifecycle);
        WarmUpEnabled = warmUp;
        _ownsIndex = ownsIndex;
    }

    public ServingState State { get; }

    public RequestPipeline Pipeline { get; }

    public bool WarmUpEnabled { get; }

    /// <summary>True once the warm-up has run (or was not wanted): health reports healthy from then on.</summary>
    public bool IsReady => _ready;

    /// <summary>Encodes one short query and one short document (both routes), then marks the runtime ready.</summary>
    public void WarmUp(CancellationToken cancellationToken)
    {
        if (WarmUpEnabled)
        {
            var encoder = State.Encoder;
            encoder.EncodeQueries(["warm up"], cancellationToken: cancellationToken);
            encoder.EncodeDocuments(["warm up"], cancellationToken: cancellationToken);
        }
        _ready = true;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        State.Batcher.Dispose();
        if (_ownsIndex) State.Options.Index?.Dispose();
    }

    /// <summary>Loads the model and opens the index named by <paramref name="options"/>.</summary>
    public static SparseEncoderRuntime Load(SparseEncoderHostingOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Model))
            throw new InvalidOperationException($"{SparseEncoderHostingOptions.SectionName}:Model is not set: give a model folder or a Hugging Face Hub id (owner/name[@revision]).");
        var encoder = SparseEncoder.Load(options.Model, new SparseEncoderOptions
        {
            Threads = options.Threads ?? Environment.ProcessorCount,
            Precision = options.Precision,
            Device = options.Device,
        });
        ISparseIndex? index = null;
        if (options.Index is { } dir)
        {
            if (!InvertedIndex.Exists(dir))
                throw new InvalidOperationException($"{SparseEncoderHostingOptions.SectionName}:Index: '{dir}' is not an index folder (build one with `splade index`).");
            index = InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true });
        }
        try
        {
            return new SparseEncoderRuntime(encoder, options.ToServerOptions() with { Index = index }, ownsIndex: true, options.WarmUp);
        }
        catch
        {
            index?.Dispose();
            throw;
        }
    }
}
