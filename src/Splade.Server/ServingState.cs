using Splade.Server.Batching;
using Splade.Server.Endpoints;
using Splade.Server.Http;
using Splade.Server.Metrics;

namespace Splade.Server;

/// <summary>What the endpoints share: the encoder, the batcher, the limits, the metrics and the optional index.</summary>
internal sealed class ServingState
{
    private int _inflight;

    public ServingState(SparseEncoder encoder, ServerOptions options, ServerMetrics metrics)
    {
        Encoder = encoder;
        Options = options;
        Metrics = metrics;
        Inputs = new InputPreparer(encoder, options.MaxInputLength);
        Batcher = new DynamicBatcher((seqs, route) => encoder.Model.Forward(seqs, route),
            options.MaxBatchTokens, options.MaxBatchRequests, metrics, options.BeforeForward);
        metrics.QueueDepth = () => Batcher.QueueDepth;
    }

    public SparseEncoder Encoder { get; }
    public ServerOptions Options { get; }
    public ServerMetrics Metrics { get; }
    public InputPreparer Inputs { get; }
    public DynamicBatcher Batcher { get; }

    /// <summary>Whether shutdown has begun.</summary>
    public ServerLifecycle Lifecycle { get; } = new();

    /// <summary>Serializes searches: an index is not required to be safe for concurrent readers.</summary>
    public object IndexLock { get; } = new();

    /// <summary>
    /// Takes one of the <c>max_concurrent_requests</c> permits, or answers 429 like TEI's
    /// <c>try_acquire_permit</c>. Dispose the result to give the permit back.
    /// </summary>
    public Permit EnterModel()
    {
        if (Interlocked.Increment(ref _inflight) > Options.MaxConcurrentRequests)
        {
            Interlocked.Decrement(ref _inflight);
            throw new ApiException(ErrorType.Overloaded, "Model is overloaded");
        }
        Metrics.EnterModel();
        return new Permit(this);
    }

    internal readonly struct Permit(ServingState state) : IDisposable
    {
        public void Dispose()
        {
            Interlocked.Decrement(ref state._inflight);
            state.Metrics.ExitModel();
        }
    }
}

/// <summary>Shutdown state shared by the server and its request middleware.</summary>
internal sealed class ServerLifecycle
{
    private volatile bool _stopping;

    /// <summary>Set when shutdown begins: new requests are answered 503.</summary>
    public bool Stopping { get => _stopping; set => _stopping = value; }
}
