using Splade.Hub;
using Splade.Models;
using Splade.Sparse;
using Splade.Tokenization;

namespace Splade;

/// <summary>
/// A SPLADE sparse encoder: the C# counterpart of sentence-transformers' <c>SparseEncoder</c>.
/// Loads a checkpoint folder or a Hub model id, tokenizes exactly as Hugging Face <c>tokenizers</c>,
/// runs BertForMaskedLM + SpladePooling and returns <see cref="SparseVector"/>s.
/// Thread-safe: concurrent encode calls each use their own workspace.
/// </summary>
public sealed partial class SparseEncoder : ISparseTextEncoder, IDisposable
{
    private SparseEncoder(string modelPath, SpladeModel model, BertTokenizer tokenizer, SparseEncoderOptions options)
    {
        ModelPath = modelPath;
        Model = model;
        Tokenizer = tokenizer;
        MaxActiveDims = options.MaxActiveDims;
        int limit = model.Folder.Settings.MaxSeqLength;
        MaxSeqLength = options.MaxSeqLength is int m ? Math.Min(m, limit) : limit;
        if (MaxSeqLength < 2) throw new ArgumentException($"max_seq_length must be at least 2 (for [CLS] and [SEP]); got {MaxSeqLength}.");
        Similarity = SparseSimilarity.Parse(model.Folder.Settings.SimilarityFnName);
        Device = model.Backend?.Device ?? "cpu";
    }

    /// <summary>
    /// Loads a model from a local folder or from the Hugging Face Hub (<c>owner/name[@revision]</c>,
    /// cached in the standard Hub cache and reused offline).
    /// </summary>
    /// <exception cref="HubException">The model could not be downloaded.</exception>
    /// <exception cref="ModelLoadException">A file of the checkpoint is missing or malformed.</exception>
    public static SparseEncoder Load(string modelIdOrPath, SparseEncoderOptions? options = null)
    {
        options ??= new SparseEncoderOptions();
        string folder = ModelLocator.Resolve(modelIdOrPath, options.Hub, options.DownloadProgress);
        var model = LoadModel(folder, options);
        var tokenizer = BertTokenizer.FromFolder(model.Folder.TokenizerDirectory);
        return new SparseEncoder(folder, model, tokenizer, options);
    }

    /// <summary>Asynchronous <see cref="Load"/> (the download is asynchronous; loading the weights is not).</summary>
    public static async Task<SparseEncoder> LoadAsync(string modelIdOrPath, SparseEncoderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SparseEncoderOptions();
        string folder = await ModelLocator.ResolveAsync(modelIdOrPath, options.Hub, options.DownloadProgress, cancellationToken).ConfigureAwait(false);
        var model = LoadModel(folder, options);
        var tokenizer = BertTokenizer.FromFolder(model.Folder.TokenizerDirectory);
        return new SparseEncoder(folder, model, tokenizer, options);
    }

    /// <summary>Loads the network and, for a device other than cpu, its backend (weights uploaded once).</summary>
    private static SpladeModel LoadModel(string folder, SparseEncoderOptions options)
    {
        string device = Devices.ForwardBackends.Normalize(options.Device);
        if (device == "cpu") return SpladeModel.Load(folder, new SpladeModelOptions { Threads = options.Threads, Precision = options.Precision });
        if (options.Precision is not (EncodePrecision.Float32 or EncodePrecision.Float16))
            throw new ArgumentException($"Precision {options.Precision} runs on the cpu device only; device {device} computes in {EncodePrecision.Float32} or {EncodePrecision.Float16}.", nameof(options));
        // The host model (float32) serves the tokenizer settings, the static query route and inspection.
        var model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = options.Threads });
        model.UseBackend(Devices.ForwardBackends.Create(device, model, options.Precision));
        return model;
    }

    /// <summary>Where the document route runs: <c>cpu</c>, <c>cuda:N</c> or <c>ilgpu-cpu</c> (<see cref="SparseEncoderOptions.Device"/>).</summary>
    public string Device { get; }

    /// <summary>Releases the device backend (its GPU memory); a cpu encoder holds nothing to release.</summary>
    public void Dispose() => Model.Backend?.Dispose();

    /// <summary>The local folder the checkpoint was read from (a Hub snapshot folder for Hub ids).</summary>
    public string ModelPath { get; }

    /// <summary>The network (BertForMaskedLM + SpladePooling, or a Router).</summary>
    public SpladeModel Model { get; }

    /// <summary>The tokenizer of the checkpoint.</summary>
    public BertTokenizer Tokenizer { get; }

    /// <summary>Vector dimension (the vocabulary size).</summary>
    public int Dimension => Model.Dimension;

    /// <summary>Longest token sequence fed to the network, [CLS] and [SEP] included; longer texts are truncated.</summary>
    public int MaxSeqLength { get; }

    /// <summary>Default <c>max_active_dims</c> for every call (null keeps every non-zero).</summary>
    public int? MaxActiveDims { get; set; }

    /// <summary>The checkpoint's similarity function (<c>similarity_fn_name</c>, dot by default).</summary>
    public SimilarityFunction Similarity { get; }

    /// <summary>The prompts of the checkpoint by name (config_sentence_transformers.json).</summary>
    public IReadOnlyDictionary<string, string> Prompts => Model.Folder.Settings.Prompts;
}
