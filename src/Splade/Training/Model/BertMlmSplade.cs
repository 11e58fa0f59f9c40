using Splade.Tensors;
using Splade.Training.Checkpoint;

namespace Splade.Training.Model;

/// <summary>
/// Training-mode <c>BertForMaskedLM</c> + SPLADE pooling on the inference kernels of
/// <see cref="Splade.Tensors"/>. <see cref="Forward"/> runs a packed batch of sequences (no padding) and
/// caches every activation; <see cref="Backward"/> turns the gradient of the pooled vectors into gradients
/// of every parameter (accumulated into <see cref="TrainableTensor.Grad"/>). Linear layers run on the
/// packed GEMM (weights packed once per forward, their transposes once per backward); the query, key and
/// value projections are one fused [3H, H] product as in inference. Max pooling runs the screened exact
/// column max and a sparse backward over the active columns only. Dropout (at the places Hugging Face
/// BERT has it: after the embedding LayerNorm, on attention probabilities, after both output projections)
/// is active only while <see cref="Training"/> is true. Every kernel splits work over outputs only, so
/// results do not depend on the thread count.
/// </summary>
public sealed class BertMlmSplade
{
    private const int ElementChunk = 16384;
    private readonly BertParameters _p;
    private readonly TrainingModelConfig _c;
    private readonly ElementTransform _gelu, _poolingActivation;
    private readonly bool _maxPooling;
    private readonly ComputePool _pool;
    private Random _dropoutRng;

    /// <summary>Parameters (shared, not copied).</summary>
    public BertParameters Parameters => _p;

    /// <summary>Dropout on when true.</summary>
    public bool Training { get; set; }

    /// <summary>When set, each part of <see cref="Forward"/> and <see cref="Backward"/> charges its wall time here.</summary>
    public StepProfile? Profile { get; set; }

    /// <summary>Threads the kernels use.</summary>
    public ComputePool Pool => _pool;

    /// <param name="parameters">The tensors (shared).</param>
    /// <param name="dropoutSeed">Seed of the dropout masks.</param>
    /// <param name="pool">Threads for the kernels (default: one per processor).</param>
    public BertMlmSplade(BertParameters parameters, int dropoutSeed = 0, ComputePool? pool = null)
    {
        _p = parameters;
        _c = parameters.Config;
        _gelu = _c.HiddenAct == "gelu" ? ElementTransform.Gelu : ElementTransform.GeluTanh;
        _poolingActivation = _c.ActivationFunction == "log1p_relu" ? ElementTransform.Log1pLog1pRelu : ElementTransform.Log1pRelu;
        _maxPooling = _c.PoolingStrategy == "max";
        _pool = pool ?? new ComputePool(Environment.ProcessorCount);
        _dropoutRng = new Random(dropoutSeed);
    }

    /// <summary>Restarts the dropout generator (resuming, tests).</summary>
    public void ReseedDropout(int seed) => _dropoutRng = new Random(seed);

    // ---- cache of the last forward (shapes in comments; N = total tokens, S = sequences) ----
    private sealed class LayerCache
    {
        public float[] Input = [];                         // [N, H] (a reference to the previous output)
        public float[] Qkv = [], Ctx = [];                 // [N, 3H], [N, H]
        public float[] Probs = [];                         // [Σ heads·L²]
        public float[]? ProbMask;                          // same, dropout
        public float[] Pre1 = [], Mean1 = [], Rstd1 = [], A = [];   // [N, H], [N], [N], [N, H]
        public float[]? Mask1;                             // [N, H]
        public float[] InterDerivative = [], InterAct = []; // [N, I]: GELU'(pre-activation), GELU(pre-activation)
        public float[] Pre2 = [], Mean2 = [], Rstd2 = [], Out = []; // [N, H], [N], [N], [N, H]
        public float[]? Mask2;                             // [N, H]
    }

    private int _n, _s;
    private int[] _ids = [], _pos = [], _types = [];
    private int[] _starts = [], _lengths = [];
    private float[] _emb = [], _mean0 = [], _rstd0 = [], _x0 = [];
    private float[]? _mask0;
    private LayerCache[] _layers = [];
    private float[] _headDerivative = [], _headAct = [], _meanH = [], _rstdH = [], _t = [];
    private float[] _maxLogit = [];  // [S, V]
    private int[] _argMax = [];      // [S, V]
    private bool _forwardDone;

    /// <summary>
    /// Runs the network on <paramref name="sequences"/> (token ids including [CLS]/[SEP]; token types 0 unless
    /// given) and returns the SPLADE vectors [S, vocab], row s for sequence s.
    /// </summary>
    public float[] Forward(IReadOnlyList<int[]> sequences, IReadOnlyList<int[]>? tokenTypes = null)
    {
        int H = _c.HiddenSize, I = _c.IntermediateSize, V = _c.VocabSize;
        _s = sequences.Count;
        _lengths = sequences.Select(x => x.Length).ToArray();
        _starts = new int[_s];
        for (int s = 1; s < _s; s++) _starts[s] = _starts[s - 1] + _lengths[s - 1];
        _n = _lengths.Sum();
        int n = _n;
        _ids = new int[n]; _pos = new int[n]; _types = new int[n];
        for (int s = 0, t = 0; s < _s; s++)
        {
            var seq = sequences[s];
            if (seq.Length > _c.MaxPositionEmbeddings)
                throw new ArgumentException($"sequence {s} has {seq.Length} tokens, more than max_position_embeddings {_c.MaxPositionEmbeddings}; truncate it first.");
            for (int i = 0; i < seq.Length; i++, t++)
            {
                if ((uint)seq[i] >= (uint)V) throw new ArgumentException($"sequence {s}, token {i}: id {seq[i]} outside the vocabulary of {V}.");
                _ids[t] = seq[i];
                _pos[t] = i;
                int ty = tokenTypes?[s][i] ?? 0;
                if ((uint)ty >= (uint)_c.TypeVocabSize) throw new ArgumentException($"sequence {s}, token {i}: token type {ty} outside [0, {_c.TypeVocabSize}).");
                _types[t] = ty;
            }
        }
        Profile?.Restart();
        bool drop = Training;
        float pH = _c.HiddenDropoutProb, pA = _c.AttentionProbsDropoutProb;
        int heads = _c.NumAttentionHeads, d = H / heads;
        float scale = 1f / MathF.Sqrt(d);

        _emb = new float[n * H]; _mean0 = new float[n]; _rstd0 = new float[n]; _x0 = new float[n * H];
        Embeddings.Forward(_ids, _pos, _types, _p.WordEmbeddings.Data, _p.PositionEmbeddings.Data, _p.TokenTypeEmbeddings.Data, H, _emb);
        LayerNorm.TrainingForward(_emb, n, H, _p.EmbLnW.Data, _p.EmbLnB.Data, _c.LayerNormEps, _x0, _mean0, _rstd0, _pool);
        _mask0 = MaybeDropout(drop, pH, _x0);
        Profile?.Lap("forward: embeddings + LayerNorm");

        _layers = new LayerCache[_c.NumHiddenLayers];
        int probCount = Attention.ProbabilityCount(_lengths, heads);
        float[] x = _x0;
        for (int l = 0; l < _layers.Length; l++)
        {
            var w = _p.Layers[l];
            var c = _layers[l] = new LayerCache { Input = x };
            c.Qkv = new float[n * 3 * H]; c.Ctx = new float[n * H];
            Gemm.Linear(x, n, H, PackQkv(w), c.Qkv, 3 * H, _pool);
            Profile?.Lap("forward: qkv GEMM");
            c.Probs = new float[probCount];
            if (drop && pA > 0) { c.ProbMask = new float[probCount]; Dropout.MakeMask((ulong)_dropoutRng.NextInt64(), pA, c.ProbMask, _pool); }
            Attention.TrainingForward(c.Qkv, c.Qkv.AsSpan(H), c.Qkv.AsSpan(2 * H), 3 * H, _starts, _lengths, heads, d, scale,
                c.Probs, c.ProbMask, c.Ctx, H, _pool);
            Profile?.Lap("forward: attention");

            c.Pre1 = new float[n * H];
            Gemm.Linear(c.Ctx, n, H, Pack(w.AttnOutW, w.AttnOutB), c.Pre1, H, _pool);
            Profile?.Lap("forward: attention.output GEMM");
            c.Mask1 = MaybeDropout(drop, pH, c.Pre1);
            System.Numerics.Tensors.TensorPrimitives.Add(c.Pre1, x, c.Pre1);
            c.A = new float[n * H]; c.Mean1 = new float[n]; c.Rstd1 = new float[n];
            LayerNorm.TrainingForward(c.Pre1, n, H, w.AttnLnW.Data, w.AttnLnB.Data, _c.LayerNormEps, c.A, c.Mean1, c.Rstd1, _pool);
            Profile?.Lap("forward: dropout + residual + LayerNorm");

            c.InterDerivative = new float[n * I]; c.InterAct = new float[n * I];
            // GELU and its derivative applied by each GEMM job to the block it has just written.
            Gemm.LinearWithDerivative(c.A, n, H, Pack(w.InterW, w.InterB), c.InterAct, I, _gelu, c.InterDerivative, _pool);
            Profile?.Lap("forward: intermediate GEMM + GELU");
            c.Pre2 = new float[n * H];
            Gemm.Linear(c.InterAct, n, I, Pack(w.OutW, w.OutB), c.Pre2, H, _pool);
            Profile?.Lap("forward: output GEMM");
            c.Mask2 = MaybeDropout(drop, pH, c.Pre2);
            System.Numerics.Tensors.TensorPrimitives.Add(c.Pre2, c.A, c.Pre2);
            c.Out = new float[n * H]; c.Mean2 = new float[n]; c.Rstd2 = new float[n];
            LayerNorm.TrainingForward(c.Pre2, n, H, w.OutLnW.Data, w.OutLnB.Data, _c.LayerNormEps, c.Out, c.Mean2, c.Rstd2, _pool);
            Profile?.Lap("forward: dropout + residual + LayerNorm");
            x = c.Out;
        }

        _headDerivative = new float[n * H]; _headAct = new float[n * H]; _meanH = new float[n]; _rstdH = new float[n]; _t = new float[n * H];
        Gemm.Linear(x, n, H, Pack(_p.HeadDenseW, _p.HeadDenseB), _headAct, H, _pool);
        Activate(_headAct, _headDerivative);
        LayerNorm.TrainingForward(_headAct, n, H, _p.HeadLnW.Data, _p.HeadLnB.Data, _c.LayerNormEps, _t, _meanH, _rstdH, _pool);
        Profile?.Lap("forward: MLM head transform");

        var pooled = new float[_s * V];
        if (_maxPooling)
        {
            _maxLogit = new float[_s * V];
            _argMax = new int[_s * V];
            QuantizedMatrix? screen = QuantizedMatrix.IsSupported ? QuantizedMatrix.Pack(_p.DecoderW.Data, V, H, _p.DecoderB.Data, QuantizedMatrix.DefaultWeightBits, _pool) : null;
            Profile?.Lap("forward: decoder screen pack");
            PooledDecoder.MaxForward(_t, H, _starts, _lengths, _p.DecoderW.Data, _p.DecoderB.Data, V, screen, _poolingActivation,
                _maxLogit, _argMax, pooled, _pool);
        }
        else
        {
            PooledDecoder.SumForward(_t, H, _starts, _lengths, PackedMatrix.Pack(_p.DecoderW.Data, V, H, _p.DecoderB.Data), _poolingActivation, pooled, _pool);
        }
        Profile?.Lap("forward: decoder + pooling");
        _forwardDone = true;
        return pooled;
    }

    /// <summary>Back-propagates <paramref name="dPooled"/> [S, vocab] through the last forward; gradients accumulate.</summary>
    public void Backward(float[] dPooled)
    {
        if (!_forwardDone) throw new InvalidOperationException("Backward called before Forward.");
        int n = _n, H = _c.HiddenSize, I = _c.IntermediateSize, V = _c.VocabSize;
        int heads = _c.NumAttentionHeads, d = H / heads;
        float scale = 1f / MathF.Sqrt(d);
        if (dPooled.Length != _s * V) throw new ArgumentException($"dPooled has {dPooled.Length} values, expected {_s}×{V}.");

        Profile?.Restart();
        var dT = new float[n * H];
        if (_maxPooling)
            PooledDecoder.MaxBackward(_t, H, _starts, _lengths, _p.DecoderW.Data, V, _maxLogit, _argMax, dPooled, _poolingActivation,
                dT, _p.DecoderW.Grad, _p.DecoderB.Grad, _pool);
        else
            PooledDecoder.SumBackward(_t, H, _starts, _lengths, _p.DecoderW.Data, _p.DecoderB.Data, V, dPooled, _poolingActivation,
                dT, _p.DecoderW.Grad, _p.DecoderB.Grad, _pool);
        Profile?.Lap("backward: decoder + pooling");
        var dHead = new float[n * H];
        LayerNorm.Backward(_headAct, _meanH, _rstdH, _p.HeadLnW.Data, dT, n, H, dHead, false, _p.HeadLnW.Grad, _p.HeadLnB.Grad, _pool);
        ActivateBackward(_headDerivative, dHead);
        var dx = new float[n * H];
        float[] lastOut = _layers.Length > 0 ? _layers[^1].Out : _x0;
        Linear(lastOut, dHead, n, H, H, _p.HeadDenseW, _p.HeadDenseB, dx, accumulate: false);
        Profile?.Lap("backward: MLM head transform");

        var dA = new float[n * H];
        var dInter = new float[n * I];
        var dTmp = new float[n * H];
        var dCtx = new float[n * H];
        var dQkv = new float[n * 3 * H];
        var dWqkv = new float[3 * H * H];
        var dBqkv = new float[3 * H];
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            var c = _layers[l];
            var w = _p.Layers[l];
            // out = LN(dropout(dense2(gelu(dense1(a)))) + a)
            var dPre2 = dTmp;
            LayerNorm.Backward(c.Pre2, c.Mean2, c.Rstd2, w.OutLnW.Data, dx, n, H, dPre2, false, w.OutLnW.Grad, w.OutLnB.Grad, _pool);
            Array.Copy(dPre2, dA, n * H); // residual
            if (c.Mask2 is not null) Dropout.Apply(dPre2, c.Mask2);
            Profile?.Lap("backward: LayerNorm + dropout");
            Linear(c.InterAct, dPre2, n, I, H, w.OutW, w.OutB, dInter, accumulate: false);
            Profile?.Lap("backward: output GEMMs");
            ActivateBackward(c.InterDerivative, dInter);
            Profile?.Lap("backward: GELU");
            Linear(c.A, dInter, n, H, I, w.InterW, w.InterB, dA, accumulate: true);
            Profile?.Lap("backward: intermediate GEMMs");
            // a = LN(dropout(dense_o(ctx)) + x)
            var dPre1 = dTmp;
            LayerNorm.Backward(c.Pre1, c.Mean1, c.Rstd1, w.AttnLnW.Data, dA, n, H, dPre1, false, w.AttnLnW.Grad, w.AttnLnB.Grad, _pool);
            Array.Copy(dPre1, dx, n * H); // residual into the layer input gradient
            if (c.Mask1 is not null) Dropout.Apply(dPre1, c.Mask1);
            Profile?.Lap("backward: LayerNorm + dropout");
            Linear(c.Ctx, dPre1, n, H, H, w.AttnOutW, w.AttnOutB, dCtx, accumulate: false);
            Profile?.Lap("backward: attention.output GEMMs");
            Attention.Backward(c.Qkv, c.Qkv.AsSpan(H), c.Qkv.AsSpan(2 * H), 3 * H, _starts, _lengths, heads, d, scale,
                c.Probs, c.ProbMask, dCtx, H, dQkv, dQkv.AsSpan(H), dQkv.AsSpan(2 * H), _pool);
            Profile?.Lap("backward: attention");
            // The fused projection: dx += dQKV·W_qkv; dW_qkv, db_qkv split back into the three tensors.
            Gemm.BackwardInput(dQkv, n, 3 * H, PackedMatrix.PackTransposed(ConcatQkv(w), 3 * H, H, H, _pool), dx, H, accumulate: true, _pool);
            Array.Clear(dWqkv);
            Array.Clear(dBqkv);
            Gemm.BackwardWeight(c.Input, dQkv, n, H, 3 * H, dWqkv, dBqkv, _pool);
            AddInto(dWqkv, 0, w.QueryW.Grad); AddInto(dWqkv, H * H, w.KeyW.Grad); AddInto(dWqkv, 2 * H * H, w.ValueW.Grad);
            AddInto(dBqkv, 0, w.QueryB.Grad); AddInto(dBqkv, H, w.KeyB.Grad); AddInto(dBqkv, 2 * H, w.ValueB.Grad);
            Profile?.Lap("backward: qkv GEMMs");
        }

        if (_mask0 is not null) Dropout.Apply(dx, _mask0);
        var dEmb = dTmp;
        LayerNorm.Backward(_emb, _mean0, _rstd0, _p.EmbLnW.Data, dx, n, H, dEmb, false, _p.EmbLnW.Grad, _p.EmbLnB.Grad, _pool);
        Embeddings.Backward(_ids, _pos, _types, dEmb, H, _p.WordEmbeddings.Grad, _p.PositionEmbeddings.Grad, _p.TokenTypeEmbeddings.Grad, _pool);
        Profile?.Lap("backward: embeddings + LayerNorm");
    }

    /// <summary>Number of tokens of the last forward.</summary>
    public int LastTokenCount => _n;

    /// <summary>Backward of y = x·Wᵀ + b [rows, outF]: dx (overwritten or added to) and the parameter gradients.</summary>
    private void Linear(float[] x, float[] dy, int rows, int inF, int outF, TrainableTensor w, TrainableTensor b, float[] dx, bool accumulate)
    {
        Gemm.BackwardInput(dy, rows, outF, PackedMatrix.PackTransposed(w.Data, outF, inF, inF, _pool), dx, inF, accumulate, _pool);
        Gemm.BackwardWeight(x, dy, rows, inF, outF, w.Grad, b.Grad, _pool);
    }

    private static PackedMatrix Pack(TrainableTensor w, TrainableTensor b) => PackedMatrix.Pack(w.Data, w.Shape[0], w.Shape[1], b.Data);

    private static float[] ConcatQkv(BertLayerParameters w)
    {
        int hh = w.QueryW.Length;
        var all = new float[3 * hh];
        w.QueryW.Data.CopyTo(all, 0); w.KeyW.Data.CopyTo(all, hh); w.ValueW.Data.CopyTo(all, 2 * hh);
        return all;
    }

    private static PackedMatrix PackQkv(BertLayerParameters w)
    {
        int h = w.QueryB.Length;
        var bias = new float[3 * h];
        w.QueryB.Data.CopyTo(bias, 0); w.KeyB.Data.CopyTo(bias, h); w.ValueB.Data.CopyTo(bias, 2 * h);
        return PackedMatrix.Pack(ConcatQkv(w), 3 * h, w.QueryW.Shape[1], bias);
    }

    private static void AddInto(float[] src, int offset, float[] dst) =>
        System.Numerics.Tensors.TensorPrimitives.Add(dst, src.AsSpan(offset, dst.Length), dst);

    private float[]? MaybeDropout(bool on, float p, float[] x)
    {
        if (!on || p <= 0) return null;
        var mask = new float[x.Length];
        Dropout.MakeMask((ulong)_dropoutRng.NextInt64(), p, mask, _pool);
        Dropout.Apply(x, mask);
        return mask;
    }

    /// <summary>x ← GELU(x) in place and derivative = GELU'(x), in chunks over the threads (one erf per element for both).</summary>
    private void Activate(float[] x, float[] derivative)
    {
        int count = x.Length;
        _pool.For((count + ElementChunk - 1) / ElementChunk, ch =>
        {
            int o = ch * ElementChunk, len = Math.Min(ElementChunk, count - o);
            Activations.ApplyWithDerivative(_gelu, x.AsSpan(o, len), derivative.AsSpan(o, len));
        });
    }

    /// <summary>dy ← dy·GELU'(x) in place, from the derivative the forward kept.</summary>
    private void ActivateBackward(float[] derivative, float[] dy)
    {
        int count = derivative.Length;
        _pool.For((count + ElementChunk - 1) / ElementChunk, ch =>
        {
            int o = ch * ElementChunk, len = Math.Min(ElementChunk, count - o);
            Activations.MultiplyBy(derivative.AsSpan(o, len), dy.AsSpan(o, len));
        });
    }
}
