using Splade.Hub;

namespace Splade;

/// <summary>How a <see cref="SparseEncoder"/> is loaded and run.</summary>
public sealed record SparseEncoderOptions
{
    /// <summary>Worker threads for the network (default: all cores).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Keep only the k largest values of every vector (sentence-transformers' <c>max_active_dims</c>); null keeps all.</summary>
    public int? MaxActiveDims { get; init; }

    /// <summary>Overrides <c>max_seq_length</c> of the checkpoint (never above the position table).</summary>
    public int? MaxSeqLength { get; init; }

    /// <summary>
    /// Arithmetic of the network (default float32, exact). <see cref="Models.EncodePrecision.Int8Decoder"/> and
    /// <see cref="Models.EncodePrecision.Int8"/> are faster approximations on the cpu device (docs/performance.md);
    /// <see cref="Models.EncodePrecision.Float16"/> is for a <see cref="Device"/> other than cpu (docs/gpu.md).
    /// </summary>
    public Models.EncodePrecision Precision { get; init; } = Models.EncodePrecision.Float32;

    /// <summary>
    /// Where the network runs: <c>cpu</c> (default, the managed kernels), <c>cuda</c> / <c>cuda:N</c> (an NVIDIA GPU,
    /// float32 or Float16 matrix products, through the Splade.Cuda package) or <c>ilgpu-cpu</c> (the same GPU kernels on ILGPU's CPU
    /// accelerator, slow, for tests). Tokenization, the static query route and max_active_dims stay on the CPU.
    /// See docs/gpu.md.
    /// </summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Hub settings for <c>owner/name[@revision]</c> model ids (default: from the environment).</summary>
    public HubOptions? Hub { get; init; }

    /// <summary>Download progress for Hub models.</summary>
    public IProgress<HubDownloadProgress>? DownloadProgress { get; init; }
}

/// <summary>Options of one encode call.</summary>
public sealed record EncodeOptions
{
    /// <summary>Name of a prompt of the checkpoint (<c>query</c>, <c>document</c>, ...); its text is prepended.</summary>
    public string? PromptName { get; init; }

    /// <summary>A literal prompt to prepend (wins over <see cref="PromptName"/>).</summary>
    public string? Prompt { get; init; }

    /// <summary>Route of a Router model (<c>query</c> or <c>document</c>); plain models ignore it.</summary>
    public string Route { get; init; } = "document";

    /// <summary>Texts per forward pass (sentence-transformers' default: 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Token budget of one forward pass: texts are sorted by length (longest first) and a batch closes
    /// before its token count would pass this budget (or at <see cref="BatchSize"/> texts), so long
    /// texts run in small batches and short ones in large batches of bounded memory. A single text
    /// longer than the budget runs alone. Default 16384.
    /// </summary>
    public int MaxBatchTokens { get; init; } = 16384;

    /// <summary>Keep the k largest values per vector; overrides the model's setting when set.</summary>
    public int? MaxActiveDims { get; init; }

    /// <summary>Called with the number of texts done so far and the total.</summary>
    public IProgress<(int Done, int Total)>? Progress { get; init; }
}
