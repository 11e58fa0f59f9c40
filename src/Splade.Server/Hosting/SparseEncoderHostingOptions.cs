using Splade.Models;

namespace Splade.Server.Hosting;

/// <summary>
/// Settings of <see cref="Microsoft.Extensions.DependencyInjection.SparseEncoderServiceCollectionExtensions.AddSparseEncoder(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>,
/// bound from configuration (section <c>Splade</c>: <c>Splade:Model</c>, <c>Splade:Index</c>,
/// <c>Splade:MaxBatchTokens</c>, ...). The limits are those of <c>splade serve</c> and default the same.
/// </summary>
public sealed class SparseEncoderHostingOptions
{
    /// <summary>Name of the configuration section read when the configuration passed in is the root.</summary>
    public const string SectionName = "Splade";

    /// <summary>Model folder, or Hugging Face Hub id <c>owner/name[@revision]</c>. Required.</summary>
    public string? Model { get; set; }

    /// <summary>Compute threads; null: every core.</summary>
    public int? Threads { get; set; }

    /// <summary>Encoder precision (default <see cref="EncodePrecision.Float32"/>, exact).</summary>
    public EncodePrecision Precision { get; set; } = EncodePrecision.Float32;

    /// <summary>Where the network runs: <c>cpu</c> (default), <c>cuda</c>, <c>cuda:N</c> or <c>ilgpu-cpu</c> (<see cref="SparseEncoderOptions.Device"/>).</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Index folder (built with <c>splade index</c>) for <c>POST /search</c>, opened read-only; null: no search.</summary>
    public string? Index { get; set; }

    /// <summary>Model id reported by <c>/info</c>; null: <see cref="Model"/>.</summary>
    public string? ModelId { get; set; }

    /// <summary>When set, every route but <c>/health</c>, <c>/ping</c> and the page requires <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Most tokens in one forward pass (sum over its sequences). Default 16384.</summary>
    public int MaxBatchTokens { get; set; } = 16384;

    /// <summary>Most sequences in one forward pass; null: only <see cref="MaxBatchTokens"/> bounds it.</summary>
    public int? MaxBatchRequests { get; set; }

    /// <summary>Most inputs in one request (413 above). Default 32.</summary>
    public int MaxClientBatchSize { get; set; } = 32;

    /// <summary>Most model requests in flight at once (429 above). Default 512.</summary>
    public int MaxConcurrentRequests { get; set; } = 512;

    /// <summary>Longest input in tokens; null: the model's max_seq_length.</summary>
    public int? MaxInputLength { get; set; }

    /// <summary>Largest request body of these endpoints in bytes (413 above). Default 2 MB.</summary>
    public long PayloadLimit { get; set; } = 2_000_000;

    /// <summary>Truncate over-long inputs when a request does not say.</summary>
    public bool AutoTruncate { get; set; }

    /// <summary>Encode a short query and document at start, so the first request does not pay for it. Default true.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>The endpoint settings these options describe (host and port are the application's own).</summary>
    internal ServerOptions ToServerOptions() => new()
    {
        ModelId = ModelId ?? Model,
        ModelSha = Model is { } m && m.Contains('@') ? m[(m.IndexOf('@') + 1)..] : null,
        ApiKey = ApiKey,
        MaxBatchTokens = MaxBatchTokens,
        MaxBatchRequests = MaxBatchRequests,
        MaxClientBatchSize = MaxClientBatchSize,
        MaxConcurrentRequests = MaxConcurrentRequests,
        MaxInputLength = MaxInputLength,
        PayloadLimit = PayloadLimit,
        AutoTruncate = AutoTruncate,
    };
}
