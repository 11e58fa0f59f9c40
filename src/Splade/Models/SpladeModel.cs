using System.Collections.Concurrent;
using Splade.Sparse;
using Splade.Tensors;

namespace Splade.Models;

/// <summary>
/// A loaded sparse encoder network: token ids in, one <see cref="SparseVector"/> (dimension = vocabulary)
/// per sequence out. Runs BertForMaskedLM + SpladePooling for the document route, the static
/// embedding for an inference-free query route, and exposes hidden states for inspection. Safe to
/// call from several threads (each call takes its own workspace).
/// </summary>
public sealed class SpladeModel
{
    private readonly ConcurrentBag<BertWorkspace> _workspaces = new();
    private readonly ComputePool _pool;
    private readonly BertModel _bert;
    private readonly BertForMaskedLM? _mlm;
    private readonly SpladePoolingConfig? _pooling;
    private readonly SparseStaticEmbedding? _static;

    private SpladeModel(ModelFolder folder, ComputePool pool, BertModel bert, BertForMaskedLM? mlm, SpladePoolingConfig? pooling, SparseStaticEmbedding? staticEmbedding, EncodePrecision precision)
    {
        Folder = folder;
        Precision = precision;
        _pool = pool;
        _bert = bert;
        _mlm = mlm;
        _pooling = pooling;
        _static = staticEmbedding;
    }

    /// <summary>The parsed model folder (all settings).</summary>
    public ModelFolder Folder { get; }
    /// <summary>The transformer configuration.</summary>
    public BertConfig Config => Folder.Config;
    /// <summary>Dimension of the output vectors (vocabulary size).</summary>
    public int Dimension => Config.VocabSize;
    /// <summary>Arithmetic of the matrix products (<see cref="SpladeModelOptions.Precision"/>).</summary>
    public EncodePrecision Precision { get; }
    /// <summary>Threads the kernels use.</summary>
    public int Threads => _pool.Threads;
    /// <summary>The masked-LM network (null without a head) and the compute pool, for stage measurements.</summary>
    internal BertForMaskedLM? MaskedLM => _mlm;
    internal ComputePool Pool => _pool;

    /// <summary>Wakes the compute threads ahead of a forward pass (call before tokenizing a query).</summary>
    public void WakeComputeThreads() => _pool.WakeAhead();
    /// <summary>Whether the checkpoint has a masked-LM head (needed for SPLADE vectors and logits).</summary>
    public bool HasMlmHead => _mlm is not null;
    /// <summary>The pooling settings of the document route, null for an encoder-only model.</summary>
    public SpladePoolingConfig? Pooling => _pooling;

    /// <summary>The backend that runs the document route when the device is not <c>cpu</c> (null: the managed kernels).</summary>
    public Devices.IForwardBackend? Backend { get; private set; }

    /// <summary>Routes the document forward through <paramref name="backend"/> (set once, by <see cref="SparseEncoder.Load"/>).</summary>
    internal void UseBackend(Devices.IForwardBackend backend)
    {
        if (Backend is not null) throw new InvalidOperationException("The model already has a backend.");
        Backend = backend;
    }

    /// <summary>Loads a model folder (see <see cref="ModelFolder"/>).</summary>
    /// <exception cref="ModelLoadException">A file is missing, malformed or inconsistent with config.json.</exception>
    /// <exception cref="PlatformNotSupportedException">A reduced precision was asked for on a machine without AVX-512 BW.</exception>
    public static SpladeModel Load(string folder, SpladeModelOptions? options = null)
    {
        options ??= new SpladeModelOptions();
        EncodePrecision precision = options.Precision;
        if (precision == EncodePrecision.Float16)
            throw new ArgumentException($"Precision {precision} runs on a device (cuda, ilgpu-cpu) only; the CPU kernels compute in {EncodePrecision.Float32} or int8.", nameof(options));
        if (precision != EncodePrecision.Float32 && !Int8Matrix.IsSupported)
            throw new PlatformNotSupportedException($"Precision {precision} needs AVX-512 BW, which this machine lacks; use {EncodePrecision.Float32}.");
        ModelFolder mf = ModelFolder.Load(folder);
        BertConfig config = mf.Config;
        using SafeTensorsFile file = SafeTensorsFile.Open(Path.Combine(mf.TransformerDirectory, "model.safetensors"));
        var root = new WeightView(file);
        BertForMaskedLM? mlm = null;
        BertModel bert;
        if (BertForMaskedLM.HasHead(root))
        {
            mlm = new BertForMaskedLM(root, config, precision);
            bert = mlm.Bert;
        }
        else if (mf.Pooling is not null)
        {
            throw new ModelLoadException(file.Path, "SpladePooling needs a masked-LM head but 'cls.predictions.transform.dense.weight' is missing.");
        }
        else
        {
            bert = new BertModel(root.Pp("bert"), config, precision == EncodePrecision.Int8);
        }
        ModuleEntry? staticModule = mf.Routes.Values.SelectMany(c => c).FirstOrDefault(m => m.Kind == ModuleKind.SparseStaticEmbedding);
        SparseStaticEmbedding? staticEmbedding = staticModule is null ? null : SparseStaticEmbedding.Load(staticModule.Directory, config.VocabSize);
        return new SpladeModel(mf, new ComputePool(options.Threads), bert, mlm, mf.Pooling, staticEmbedding, precision);
    }

    /// <summary>Whether inputs of <paramref name="route"/> carry [CLS]/[SEP] (false for the static query embedding).</summary>
    public bool RouteAddsSpecialTokens(string route) => Chain(route)[0].Kind != ModuleKind.SparseStaticEmbedding;

    /// <summary>
    /// Sparse vectors of a batch of token-id sequences (each [CLS] … [SEP], unpadded; for a
    /// SparseStaticEmbedding route, without special tokens), in input order. An empty sequence gives
    /// an empty vector.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, vocab).</exception>
    /// <exception cref="ArgumentException">A sequence is longer than max_position_embeddings, or the route is unknown.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint has no MLM head.</exception>
    public SparseVector[] Forward(IReadOnlyList<int[]> tokenIdBatch, string route = "document")
    {
        ArgumentNullException.ThrowIfNull(tokenIdBatch);
        IReadOnlyList<ModuleEntry> chain = Chain(route);
        TokenBatch batch = TokenBatch.FromSequences(tokenIdBatch, Config.VocabSize, Config.MaxPositionEmbeddings);
        if (batch.SequenceCount == 0) return [];
        if (chain[0].Kind == ModuleKind.SparseStaticEmbedding)
            return tokenIdBatch.Select(ids => _static!.Encode(ids)).ToArray();
        if (_mlm is null || _pooling is null)
            throw new InvalidOperationException($"Route '{route}' of {Folder.Path} has no MLM head and SpladePooling; only hidden states are available.");
        if (Backend is not null) return Backend.ForwardPooled(batch);
        BertWorkspace ws = Rent();
        try
        {
            _mlm.ForwardPooled(batch, ws, _pooling, _pool);
            var result = new SparseVector[batch.SequenceCount];
            for (int s = 0; s < result.Length; s++)
                result[s] = SpladePooling.ToSparse(ws.Pooled.AsSpan(s * Dimension, Dimension));
            return result;
        }
        finally
        {
            _workspaces.Add(ws);
        }
    }

    /// <summary>Last hidden state [length·hidden] of one sequence.</summary>
    public float[] LastHiddenState(int[] ids) => HiddenStates(ids)[^1];

    /// <summary>The embeddings output and every layer's output ([length·hidden] each) of one sequence.</summary>
    public float[][] HiddenStates(int[] ids)
    {
        TokenBatch batch = TokenBatch.FromSequences([ids], Config.VocabSize, Config.MaxPositionEmbeddings);
        var states = new float[Config.NumHiddenLayers + 1][];
        BertWorkspace ws = Rent();
        try
        {
            ws.EnsureCapacity(batch, pooled: false);
            _bert.Forward(batch, ws, _pool, (i, h) => states[i] = h.ToArray());
            return states;
        }
        finally
        {
            _workspaces.Add(ws);
        }
    }

    /// <summary>MLM logits [length·vocab] of one sequence (the unfused path).</summary>
    public float[] Logits(int[] ids)
    {
        if (_mlm is null) throw new InvalidOperationException($"{Folder.Path} has no MLM head.");
        TokenBatch batch = TokenBatch.FromSequences([ids], Config.VocabSize, Config.MaxPositionEmbeddings);
        BertWorkspace ws = Rent();
        try { return _mlm.Logits(batch, ws, _pool); }
        finally { _workspaces.Add(ws); }
    }

    /// <summary>Reference twin of the document route for one sequence: full logits, then pooling in double.</summary>
    public SparseVector ForwardUnfused(int[] ids)
    {
        if (_pooling is null) throw new InvalidOperationException($"{Folder.Path} has no SpladePooling.");
        float[] logits = Logits(ids);
        return SpladePooling.ToSparse(SpladePooling.Reference(logits, ids.Length, Dimension, _pooling));
    }

    private IReadOnlyList<ModuleEntry> Chain(string route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (Folder.Routes.TryGetValue(route, out IReadOnlyList<ModuleEntry>? chain)) return chain;
        throw new ArgumentException($"Unknown route '{route}'; this model has: {string.Join(", ", Folder.Routes.Keys)}.", nameof(route));
    }

    private BertWorkspace Rent() => _workspaces.TryTake(out BertWorkspace? ws) ? ws : new BertWorkspace(Config);
}
