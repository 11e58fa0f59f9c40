using System.Net;
using Splade.Search;

namespace Splade.Server;

/// <summary>
/// Settings of <see cref="SpladeServer"/>. Names and defaults follow Text Embeddings Inference's
/// router arguments (<c>--max-batch-tokens</c>, <c>--max-client-batch-size</c>, ...).
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Address to listen on (default loopback only).</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>TCP port; 0 picks a free one (read it back from <see cref="SpladeServer.Port"/>).</summary>
    public int Port { get; init; } = 3000;

    /// <summary>Model id reported by <c>/info</c> (the folder or Hub id it was loaded from).</summary>
    public string? ModelId { get; init; }

    /// <summary>Hub revision reported as <c>model_sha</c> by <c>/info</c>.</summary>
    public string? ModelSha { get; init; }

    /// <summary>When set, every route but <c>/health</c> requires <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Most tokens in one forward pass (sum over its sequences, unpadded). TEI default 16384.</summary>
    public int MaxBatchTokens { get; init; } = 16384;

    /// <summary>Most sequences in one forward pass; null: only <see cref="MaxBatchTokens"/> bounds it. 1 disables batching across requests.</summary>
    public int? MaxBatchRequests { get; init; }

    /// <summary>Most inputs in one request (413 above). TEI default 32.</summary>
    public int MaxClientBatchSize { get; init; } = 32;

    /// <summary>Most model requests (embed, search) in flight at once (429 above). TEI default 512.</summary>
    public int MaxConcurrentRequests { get; init; } = 512;

    /// <summary>Longest input in tokens, special tokens included; null: the model's max_seq_length (never above it).</summary>
    public int? MaxInputLength { get; init; }

    /// <summary>Largest request body in bytes (413 above). TEI default 2 MB.</summary>
    public long PayloadLimit { get; init; } = 2_000_000;

    /// <summary>Truncate over-long inputs when a request does not say (TEI's <c>--auto-truncate</c>).</summary>
    public bool AutoTruncate { get; init; }

    /// <summary>Index for <c>POST /search</c>; null: the route answers 424. Searched concurrently under a lock.</summary>
    public ISparseIndex? Index { get; init; }

    /// <summary>One line per request (method, path, status, milliseconds); null: no request log.</summary>
    public TextWriter? RequestLog { get; init; }

    /// <summary>
    /// How long shutdown waits for requests in flight. Requests still queued for the model shortly before
    /// it ends (at <see cref="ShutdownTimeout"/> minus a quarter, at most one second) are answered 503.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest time to receive a request's headers (Kestrel's RequestHeadersTimeout); slower clients get 408.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection may stay open with no request (also a fresh one that sends nothing) before it is closed.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(130);

    /// <summary>
    /// Slowest accepted request body, in bytes per second averaged after <see cref="MinRequestBodyGracePeriod"/>
    /// (Kestrel's MinRequestBodyDataRate); a client trickling its body slower gets 408. 0 disables the check.
    /// </summary>
    public double MinRequestBodyDataRate { get; init; } = 240;

    /// <summary>Time a body may start slowly before <see cref="MinRequestBodyDataRate"/> applies (more than one second).</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most open connections (idle ones included); null: no limit. Connections above it are refused at once.</summary>
    public long? MaxConnections { get; init; }

    /// <summary>Test hook: runs on the batcher thread before every forward pass.</summary>
    internal Action? BeforeForward { get; init; }

    /// <summary>Checks every limit is in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive or the port is out of range.</exception>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be in [0, 65535].");
        if (MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "Must be at least 1.");
        if (MaxBatchRequests is < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchRequests), MaxBatchRequests, "Must be at least 1.");
        if (MaxClientBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxClientBatchSize), MaxClientBatchSize, "Must be at least 1.");
        if (MaxConcurrentRequests < 1) throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRequests), MaxConcurrentRequests, "Must be at least 1.");
        if (MaxInputLength is < 2) throw new ArgumentOutOfRangeException(nameof(MaxInputLength), MaxInputLength, "Must be at least 2 ([CLS] and [SEP]).");
        if (PayloadLimit < 1) throw new ArgumentOutOfRangeException(nameof(PayloadLimit), PayloadLimit, "Must be at least 1.");
        if (ShutdownTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "Must be positive.");
        if (RequestHeadersTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RequestHeadersTimeout), RequestHeadersTimeout, "Must be positive.");
        if (KeepAliveTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(KeepAliveTimeout), KeepAliveTimeout, "Must be positive.");
        if (!(MinRequestBodyDataRate >= 0) || double.IsInfinity(MinRequestBodyDataRate)) throw new ArgumentOutOfRangeException(nameof(MinRequestBodyDataRate), MinRequestBodyDataRate, "Must be 0 (off) or a positive number of bytes per second.");
        if (MinRequestBodyGracePeriod <= TimeSpan.FromSeconds(1)) throw new ArgumentOutOfRangeException(nameof(MinRequestBodyGracePeriod), MinRequestBodyGracePeriod, "Must be more than one second (Kestrel checks rates once a second).");
        if (MaxConnections is < 1) throw new ArgumentOutOfRangeException(nameof(MaxConnections), MaxConnections, "Must be at least 1.");
    }
}
