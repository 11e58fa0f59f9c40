using Splade.Tensors;

namespace Splade.Models;

/// <summary>
/// One post-LayerNorm encoder layer (BertLayer = BertAttention{BertSelfAttention, BertSelfOutput},
/// BertIntermediate, BertOutput): a = LN(dense_o(attention(x)) + x); out = LN(W2·act(W1·a + b1) + b2 + a).
/// Q, K and V are packed as one [3·hidden, hidden] matrix so one GEMM computes all three.
/// </summary>
public sealed class BertLayer
{
    private readonly BertConfig _config;
    private readonly PackedMatrix _qkv;            // [3h, h]
    private readonly PackedMatrix _attentionOutput; // [h, h]
    private readonly float[] _attentionLnWeight, _attentionLnBias; // [h]
    private readonly PackedMatrix _intermediate;    // [i, h]
    private readonly PackedMatrix _output;          // [h, i]
    private readonly float[] _outputLnWeight, _outputLnBias; // [h]
    private readonly Int8Matrix? _qkv8, _attentionOutput8, _intermediate8, _output8; // the same maps in byte integers (EncodePrecision.Int8)

    /// <summary>Loads the tensors of <c>encoder.layer.{i}</c> under <paramref name="vb"/>; <paramref name="int8Linears"/> runs the four linear maps in byte integers (<see cref="Int8Gemm"/>).</summary>
    public BertLayer(WeightView vb, BertConfig config, bool int8Linears = false)
    {
        _config = config;
        int h = config.HiddenSize, inter = config.IntermediateSize;
        WeightView self = vb.Pp("attention.self");
        float[] qkvWeight = [.. self.Get("query.weight", h, h), .. self.Get("key.weight", h, h), .. self.Get("value.weight", h, h)];
        float[] qkvBias = [.. self.Get("query.bias", h), .. self.Get("key.bias", h), .. self.Get("value.bias", h)];
        _qkv = PackedMatrix.Pack(qkvWeight, 3 * h, h, qkvBias);
        WeightView attnOut = vb.Pp("attention.output");
        _attentionOutput = PackedMatrix.Pack(attnOut.Get("dense.weight", h, h), h, h, attnOut.Get("dense.bias", h));
        _attentionLnWeight = attnOut.Get("LayerNorm.weight", h);
        _attentionLnBias = attnOut.Get("LayerNorm.bias", h);
        _intermediate = PackedMatrix.Pack(vb.Get("intermediate.dense.weight", inter, h), inter, h, vb.Get("intermediate.dense.bias", inter));
        _output = PackedMatrix.Pack(vb.Get("output.dense.weight", h, inter), h, inter, vb.Get("output.dense.bias", h));
        _outputLnWeight = vb.Get("output.LayerNorm.weight", h);
        _outputLnBias = vb.Get("output.LayerNorm.bias", h);
        if (int8Linears)
        {
            // 127 weight levels and 64 activation levels: in the encoder the weight rounding weighs more
            // than the activation rounding (measured on bert-mini and a trained 2-layer model; see docs/performance.md).
            const int Levels = 127;
            _qkv8 = Int8Matrix.Quantize(qkvWeight, 3 * h, h, qkvBias, Levels);
            _attentionOutput8 = Int8Matrix.Quantize(attnOut.Get("dense.weight", h, h), h, h, attnOut.Get("dense.bias", h), Levels);
            _intermediate8 = Int8Matrix.Quantize(vb.Get("intermediate.dense.weight", inter, h), inter, h, vb.Get("intermediate.dense.bias", inter), Levels);
            _output8 = Int8Matrix.Quantize(vb.Get("output.dense.weight", h, inter), h, inter, vb.Get("output.dense.bias", h), Levels);
        }
    }

    /// <summary>Y = X·Wᵀ + b in float32, or in byte integers when the layer holds an integer copy of W.</summary>
    private static void Linear(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Int8Matrix? w8, Span<float> y, int ldy, ComputePool pool)
        => Linear(x, m, ldx, w, w8, y, ldy, ElementTransform.None, pool);

    /// <summary>y = activation(x·Wᵀ + b): the float GEMM applies the activation per output block; the int8 path after the product.</summary>
    private static void Linear(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Int8Matrix? w8, Span<float> y, int ldy, ElementTransform activation, ComputePool pool)
    {
        if (w8 is null) { Gemm.Linear(x, m, ldx, w, y, ldy, activation, pool); return; }
        Int8Gemm.Linear(x, m, ldx, w8, y, ldy, pool);
        if (activation != ElementTransform.None) Activations.Apply(activation, y[..(m * ldy)]);
    }

    /// <summary>Transforms <c>ws.Hidden</c> [tokens, hidden] in place.</summary>
    public void Forward(TokenBatch batch, BertWorkspace ws, ComputePool pool)
    {
        int t = batch.TokenCount, h = _config.HiddenSize, inter = _config.IntermediateSize;
        float eps = _config.LayerNormEps;
        Span<float> hidden = ws.Hidden.AsSpan(0, t * h);
        Linear(hidden, t, h, _qkv, _qkv8, ws.Qkv, 3 * h, pool);
        float[] qkv = ws.Qkv;
        Tensors.Attention.Forward(qkv, qkv.AsSpan(h), qkv.AsSpan(2 * h), 3 * h, batch.Starts, batch.Lengths,
            _config.NumAttentionHeads, _config.HeadDim, 1f / MathF.Sqrt(_config.HeadDim), default, ws.Context, h, ws.Scores, pool);
        Linear(ws.Context, t, h, _attentionOutput, _attentionOutput8, ws.Attention.AsSpan(0, t * h), h, pool);
        AddLayerNorm(ws.Attention, ws.Hidden, ws.Attention, t, h, _attentionLnWeight, _attentionLnBias, eps, pool);
        Linear(ws.Attention.AsSpan(0, t * h), t, h, _intermediate, _intermediate8, ws.Intermediate, inter, _config.Activation, pool);
        Linear(ws.Intermediate, t, inter, _output, _output8, hidden, h, ElementTransform.None, pool);
        AddLayerNorm(ws.Hidden, ws.Attention, ws.Hidden, t, h, _outputLnWeight, _outputLnBias, eps, pool);
    }

    /// <summary>y = LayerNorm(x + residual) (residual may be null) on rows [0, rows) of [rows, cols] buffers, row blocks split over the pool; y may alias x or residual.</summary>
    internal static void AddLayerNorm(float[] x, float[]? residual, float[] y, int rows, int cols, float[] gamma, float[] beta, float eps, ComputePool pool)
    {
        const int RowsPerJob = 64;
        int jobs = (rows + RowsPerJob - 1) / RowsPerJob;
        pool.For(jobs, j =>
        {
            int r0 = j * RowsPerJob, n = Math.Min(rows, r0 + RowsPerJob) - r0;
            var ys = y.AsSpan(r0 * cols, n * cols);
            if (residual is null) LayerNorm.Forward(x.AsSpan(r0 * cols, n * cols), n, cols, gamma, beta, eps, ys);
            else LayerNorm.AddForward(x.AsSpan(r0 * cols, n * cols), residual.AsSpan(r0 * cols, n * cols), n, cols, gamma, beta, eps, ys);
        });
    }
}
