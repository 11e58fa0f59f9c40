using Splade.Training.Checkpoint;
using Splade.Training.Kernels;

namespace Splade.Training.Model;

/// <summary>
/// Training-mode <c>BertForMaskedLM</c> + SPLADE pooling. <see cref="Forward"/> runs a packed batch of
/// sequences (no padding) and caches every activation; <see cref="Backward"/> turns the gradient of the
/// pooled vectors into gradients of every parameter (accumulated into <see cref="TrainableTensor.Grad"/>).
/// Dropout (at the places Hugging Face BERT has it: after the embedding LayerNorm, on attention
/// probabilities, after both output projections) is active only while <see cref="Training"/> is true.
/// </summary>
public sealed class BertMlmSplade
{
    private readonly BertParameters _p;
    private readonly TrainingModelConfig _c;
    private readonly bool _tanhGelu;
    private Random _dropoutRng;

    /// <summary>Parameters (shared, not copied).</summary>
    public BertParameters Parameters => _p;

    /// <summary>Dropout on when true.</summary>
    public bool Training { get; set; }

    public BertMlmSplade(BertParameters parameters, int dropoutSeed = 0)
    {
        _p = parameters;
        _c = parameters.Config;
        _tanhGelu = _c.HiddenAct != "gelu";
        _dropoutRng = new Random(dropoutSeed);
    }

    /// <summary>Restarts the dropout generator (resuming, tests).</summary>
    public void ReseedDropout(int seed) => _dropoutRng = new Random(seed);

    // ---- cache of the last forward (shapes in comments; N = total tokens, S = sequences) ----
    private sealed class LayerCache
    {
        public float[] Input = [];                         // [N, H] (a reference to the previous output)
        public float[] Q = [], K = [], V = [], Ctx = [];   // [N, H]
        public float[] Probs = [];                         // [Σ heads·L²]
        public float[]? ProbMask;                          // same, dropout
        public float[] Pre1 = [], Mean1 = [], Rstd1 = [], A = [];   // [N, H], [N], [N], [N, H]
        public float[]? Mask1;                             // [N, H]
        public float[] InterPre = [], InterAct = [];       // [N, I]
        public float[] Pre2 = [], Mean2 = [], Rstd2 = [], Out = []; // [N, H], [N], [N], [N, H]
        public float[]? Mask2;                             // [N, H]
    }

    private int _n, _s;
    private int[] _ids = [], _pos = [], _types = [];
    private int[] _lengths = [];
    private float[] _emb = [], _mean0 = [], _rstd0 = [], _x0 = [];
    private float[]? _mask0;
    private LayerCache[] _layers = [];
    private float[] _headPre = [], _headAct = [], _meanH = [], _rstdH = [], _t = [];
    private Attention? _attention;
    private SpladePooling? _pooling;

    /// <summary>
    /// Runs the network on <paramref name="sequences"/> (token ids including [CLS]/[SEP]; token types 0 unless
    /// given) and returns the SPLADE vectors [S, vocab], row s for sequence s.
    /// </summary>
    public float[] Forward(IReadOnlyList<int[]> sequences, IReadOnlyList<int[]>? tokenTypes = null)
    {
        int H = _c.HiddenSize, I = _c.IntermediateSize, V = _c.VocabSize;
        _s = sequences.Count;
        _lengths = sequences.Select(x => x.Length).ToArray();
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
        bool drop = Training;
        float pH = _c.HiddenDropoutProb, pA = _c.AttentionProbsDropoutProb;

        _emb = new float[n * H]; _mean0 = new float[n]; _rstd0 = new float[n]; _x0 = new float[n * H];
        Embeddings.Forward(_ids, _pos, _types, _p.WordEmbeddings.Data, _p.PositionEmbeddings.Data, _p.TokenTypeEmbeddings.Data, H, _emb);
        LayerNorm.Forward(_emb, _p.EmbLnW.Data, _p.EmbLnB.Data, _c.LayerNormEps, n, H, _x0, _mean0, _rstd0);
        _mask0 = MaybeDropout(drop, pH, _x0, n * H);

        _attention = new Attention(H, _c.NumAttentionHeads, _lengths);
        _layers = new LayerCache[_c.NumHiddenLayers];
        float[] x = _x0;
        for (int l = 0; l < _layers.Length; l++)
        {
            var w = _p.Layers[l];
            var c = _layers[l] = new LayerCache { Input = x };
            c.Q = new float[n * H]; c.K = new float[n * H]; c.V = new float[n * H]; c.Ctx = new float[n * H];
            Linear.Forward(x, n, H, w.QueryW.Data, w.QueryB.Data, H, c.Q);
            Linear.Forward(x, n, H, w.KeyW.Data, w.KeyB.Data, H, c.K);
            Linear.Forward(x, n, H, w.ValueW.Data, w.ValueB.Data, H, c.V);
            c.Probs = new float[_attention.ProbCount];
            if (drop && pA > 0) { c.ProbMask = new float[c.Probs.Length]; Dropout.MakeMask(_dropoutRng, pA, c.ProbMask, c.Probs.Length); }
            _attention.Forward(c.Q, c.K, c.V, c.Probs, c.ProbMask, c.Ctx);

            c.Pre1 = new float[n * H];
            Linear.Forward(c.Ctx, n, H, w.AttnOutW.Data, w.AttnOutB.Data, H, c.Pre1);
            c.Mask1 = MaybeDropout(drop, pH, c.Pre1, n * H);
            for (int i = 0; i < n * H; i++) c.Pre1[i] += x[i];
            c.A = new float[n * H]; c.Mean1 = new float[n]; c.Rstd1 = new float[n];
            LayerNorm.Forward(c.Pre1, w.AttnLnW.Data, w.AttnLnB.Data, _c.LayerNormEps, n, H, c.A, c.Mean1, c.Rstd1);

            c.InterPre = new float[n * I]; c.InterAct = new float[n * I];
            Linear.Forward(c.A, n, H, w.InterW.Data, w.InterB.Data, I, c.InterPre);
            GeluForward(c.InterPre, c.InterAct, n * I);
            c.Pre2 = new float[n * H];
            Linear.Forward(c.InterAct, n, I, w.OutW.Data, w.OutB.Data, H, c.Pre2);
            c.Mask2 = MaybeDropout(drop, pH, c.Pre2, n * H);
            for (int i = 0; i < n * H; i++) c.Pre2[i] += c.A[i];
            c.Out = new float[n * H]; c.Mean2 = new float[n]; c.Rstd2 = new float[n];
            LayerNorm.Forward(c.Pre2, w.OutLnW.Data, w.OutLnB.Data, _c.LayerNormEps, n, H, c.Out, c.Mean2, c.Rstd2);
            x = c.Out;
        }

        _headPre = new float[n * H]; _headAct = new float[n * H]; _meanH = new float[n]; _rstdH = new float[n]; _t = new float[n * H];
        Linear.Forward(x, n, H, _p.HeadDenseW.Data, _p.HeadDenseB.Data, H, _headPre);
        GeluForward(_headPre, _headAct, n * H);
        LayerNorm.Forward(_headAct, _p.HeadLnW.Data, _p.HeadLnB.Data, _c.LayerNormEps, n, H, _t, _meanH, _rstdH);

        _pooling = new SpladePooling(H, V, _c.PoolingStrategy == "max", _c.ActivationFunction == "log1p_relu", _lengths);
        var pooled = new float[_s * V];
        _pooling.Forward(_t, _p.DecoderW.Data, _p.DecoderB.Data, pooled);
        return pooled;
    }

    /// <summary>Back-propagates <paramref name="dPooled"/> [S, vocab] through the last forward; gradients accumulate.</summary>
    public void Backward(float[] dPooled)
    {
        if (_pooling is null || _attention is null) throw new InvalidOperationException("Backward called before Forward.");
        int n = _n, H = _c.HiddenSize, I = _c.IntermediateSize;
        if (dPooled.Length != _s * _c.VocabSize) throw new ArgumentException($"dPooled has {dPooled.Length} values, expected {_s}×{_c.VocabSize}.");

        var dT = new float[n * H];
        _pooling.Backward(_t, _p.DecoderW.Data, _p.DecoderB.Data, dPooled, dT, _p.DecoderW.Grad, _p.DecoderB.Grad);
        var dHead = new float[n * H];
        LayerNorm.Backward(_headAct, _meanH, _rstdH, _p.HeadLnW.Data, dT, n, H, dHead, false, _p.HeadLnW.Grad, _p.HeadLnB.Grad);
        GeluBackward(_headPre, dHead, n * H);
        var dx = new float[n * H];
        float[] lastOut = _layers.Length > 0 ? _layers[^1].Out : _x0;
        Linear.Backward(lastOut, dHead, n, H, H, _p.HeadDenseW.Data, dx, false, _p.HeadDenseW.Grad, _p.HeadDenseB.Grad);

        var dA = new float[n * H];
        var dInter = new float[n * I];
        var dTmp = new float[n * H];
        var dCtx = new float[n * H];
        var dQ = new float[n * H]; var dK = new float[n * H]; var dV = new float[n * H];
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            var c = _layers[l];
            var w = _p.Layers[l];
            // out = LN(dropout(dense2(gelu(dense1(a)))) + a)
            var dPre2 = dTmp;
            LayerNorm.Backward(c.Pre2, c.Mean2, c.Rstd2, w.OutLnW.Data, dx, n, H, dPre2, false, w.OutLnW.Grad, w.OutLnB.Grad);
            Array.Copy(dPre2, dA, n * H); // residual
            if (c.Mask2 is not null) Dropout.Apply(dPre2, c.Mask2, n * H);
            Linear.Backward(c.InterAct, dPre2, n, I, H, w.OutW.Data, dInter, false, w.OutW.Grad, w.OutB.Grad);
            GeluBackward(c.InterPre, dInter, n * I);
            Linear.Backward(c.A, dInter, n, H, I, w.InterW.Data, dA, true, w.InterW.Grad, w.InterB.Grad);
            // a = LN(dropout(dense_o(ctx)) + x)
            var dPre1 = dTmp;
            LayerNorm.Backward(c.Pre1, c.Mean1, c.Rstd1, w.AttnLnW.Data, dA, n, H, dPre1, false, w.AttnLnW.Grad, w.AttnLnB.Grad);
            Array.Copy(dPre1, dx, n * H); // residual into the layer input gradient
            if (c.Mask1 is not null) Dropout.Apply(dPre1, c.Mask1, n * H);
            Linear.Backward(c.Ctx, dPre1, n, H, H, w.AttnOutW.Data, dCtx, false, w.AttnOutW.Grad, w.AttnOutB.Grad);
            _attention.Backward(c.Q, c.K, c.V, c.Probs, c.ProbMask, dCtx, dQ, dK, dV);
            Linear.Backward(c.Input, dQ, n, H, H, w.QueryW.Data, dx, true, w.QueryW.Grad, w.QueryB.Grad);
            Linear.Backward(c.Input, dK, n, H, H, w.KeyW.Data, dx, true, w.KeyW.Grad, w.KeyB.Grad);
            Linear.Backward(c.Input, dV, n, H, H, w.ValueW.Data, dx, true, w.ValueW.Grad, w.ValueB.Grad);
        }

        if (_mask0 is not null) Dropout.Apply(dx, _mask0, n * H);
        var dEmb = dTmp;
        LayerNorm.Backward(_emb, _mean0, _rstd0, _p.EmbLnW.Data, dx, n, H, dEmb, false, _p.EmbLnW.Grad, _p.EmbLnB.Grad);
        Embeddings.Backward(_ids, _pos, _types, dEmb, H, _p.WordEmbeddings.Grad, _p.PositionEmbeddings.Grad, _p.TokenTypeEmbeddings.Grad);
    }

    /// <summary>Number of tokens of the last forward.</summary>
    public int LastTokenCount => _n;

    private float[]? MaybeDropout(bool on, float p, float[] x, int count)
    {
        if (!on || p <= 0) return null;
        var mask = new float[count];
        Dropout.MakeMask(_dropoutRng, p, mask, count);
        Dropout.Apply(x, mask, count);
        return mask;
    }

    private void GeluForward(float[] x, float[] y, int count)
    {
        const int Chunk = 16384;
        TrainingParallel.For((count + Chunk - 1) / Chunk, ch =>
        {
            int o = ch * Chunk, len = Math.Min(Chunk, count - o);
            Gelu.Forward(x.AsSpan(o, len), y.AsSpan(o, len), _tanhGelu);
        });
    }

    /// <summary>dy ← dy·GELU'(x) in place.</summary>
    private void GeluBackward(float[] x, float[] dy, int count)
    {
        const int Chunk = 16384;
        TrainingParallel.For((count + Chunk - 1) / Chunk, ch =>
        {
            int o = ch * Chunk, len = Math.Min(Chunk, count - o);
            Gelu.Backward(x.AsSpan(o, len), dy.AsSpan(o, len), dy.AsSpan(o, len), _tanhGelu);
        });
    }
}
