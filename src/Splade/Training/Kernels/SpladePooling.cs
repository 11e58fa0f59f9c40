using System.Buffers;

namespace Splade.Training.Kernels;

/// <summary>
/// MLM decoder fused with SPLADE pooling: logits[t, j] = T[t]·D[j] + b[j] for each token t of a sequence,
/// then w[s, j] = max_t act(logits[t, j]) ("max") or Σ_t act(logits[t, j]) ("sum"). The [tokens × vocab]
/// logit matrix is only ever built one vocabulary block at a time.
/// Max backward routes each w[s, j]'s gradient to one token (the first arg-max, as torch.max does), so
/// only active (positive-logit) entries carry gradient: dT[t*] += g·D[j], dD[j] += g·T[t*], db[j] += g
/// with g = dw[s, j]·act'(logit[t*, j]).
/// </summary>
internal sealed class SpladePooling
{
    private const int VocabBlock = 128;
    private readonly int _hidden, _vocab;
    private readonly bool _max, _doubleLog;
    private readonly int[] _start, _len, _seqOfToken;
    private readonly int _tokens;

    /// <summary>Max pooling: winning logit per (sequence, vocab) [S, V] and its token index within the sequence.</summary>
    private float[] _maxLogit = [];
    private int[] _argMax = [];

    public SpladePooling(int hidden, int vocab, bool maxPooling, bool doubleLog, IReadOnlyList<int> seqLengths)
    {
        _hidden = hidden;
        _vocab = vocab;
        _max = maxPooling;
        _doubleLog = doubleLog;
        _start = new int[seqLengths.Count];
        _len = new int[seqLengths.Count];
        int tok = 0;
        for (int s = 0; s < seqLengths.Count; s++) { _start[s] = tok; _len[s] = seqLengths[s]; tok += seqLengths[s]; }
        _tokens = tok;
        _seqOfToken = new int[tok];
        for (int s = 0; s < _len.Length; s++) for (int i = 0; i < _len[s]; i++) _seqOfToken[_start[s] + i] = s;
    }

    /// <summary>t: [N, H]; d: [V, H]; b: [V]; pooled: [S, V] (overwritten).</summary>
    public void Forward(float[] t, float[] d, float[] b, float[] pooled)
    {
        int S = _len.Length, V = _vocab, H = _hidden;
        if (_max)
        {
            _maxLogit = new float[S * V];
            _argMax = new int[S * V];
        }
        int blocks = (V + VocabBlock - 1) / VocabBlock;
        int maxLen = _len.Length == 0 ? 0 : _len.Max();
        TrainingParallel.For(blocks, blk =>
        {
            int j0 = blk * VocabBlock, jn = Math.Min(V, j0 + VocabBlock) - j0;
            float[] logits = ArrayPool<float>.Shared.Rent(Math.Max(1, maxLen * jn)); // [L, jn]
            for (int s = 0; s < S; s++)
            {
                int L = _len[s];
                if (L == 0) { for (int j = 0; j < jn; j++) pooled[s * V + j0 + j] = 0; continue; }
                Gemm.Block(t, _start[s] * H, d, j0 * H, logits, 0, jn, H, 0, L, 0, jn, accumulate: false);
                for (int j = 0; j < jn; j++)
                {
                    float bias = b[j0 + j];
                    if (_max)
                    {
                        float best = logits[j];
                        int arg = 0;
                        for (int i = 1; i < L; i++)
                            if (logits[i * jn + j] > best) { best = logits[i * jn + j]; arg = i; }
                        best += bias;
                        _maxLogit[s * V + j0 + j] = best;
                        _argMax[s * V + j0 + j] = arg;
                        pooled[s * V + j0 + j] = (float)SpladeActivation.Apply(best, _doubleLog);
                    }
                    else
                    {
                        double sum = 0;
                        for (int i = 0; i < L; i++) sum += SpladeActivation.Apply(logits[i * jn + j] + bias, _doubleLog);
                        pooled[s * V + j0 + j] = (float)sum;
                    }
                }
            }
            ArrayPool<float>.Shared.Return(logits);
        });
    }

    /// <summary>Accumulates dT [N, H], dD [V, H] and db [V] from dPooled [S, V].</summary>
    public void Backward(float[] t, float[] d, float[] b, float[] dPooled, float[] dT, float[] dD, float[] dB)
    {
        if (_max) BackwardMax(t, d, dPooled, dT, dD, dB);
        else BackwardSum(t, d, b, dPooled, dT, dD, dB);
    }

    private void BackwardMax(float[] t, float[] d, float[] dPooled, float[] dT, float[] dD, float[] dB)
    {
        int S = _len.Length, V = _vocab, H = _hidden;
        var g = new float[S * V]; // [S, V] gradient of the winning logit
        for (int i = 0; i < g.Length; i++)
            g[i] = dPooled[i] == 0 ? 0 : (float)(dPooled[i] * SpladeActivation.Derivative(_maxLogit[i], _doubleLog));
        // Vocabulary side: parallel over blocks of j, sequences in fixed order.
        int blocks = (V + VocabBlock - 1) / VocabBlock;
        TrainingParallel.For(blocks, blk =>
        {
            int j1 = Math.Min(V, blk * VocabBlock + VocabBlock);
            for (int j = blk * VocabBlock; j < j1; j++)
            {
                double bsum = 0;
                for (int s = 0; s < S; s++)
                {
                    float gv = g[s * V + j];
                    if (gv == 0) continue;
                    bsum += gv;
                    int tok = _start[s] + _argMax[s * V + j];
                    Gemm.Axpy(gv, t.AsSpan(tok * H, H), dD.AsSpan(j * H, H));
                }
                dB[j] += (float)bsum;
            }
        });
        // Token side: parallel over sequences, vocabulary in fixed order.
        TrainingParallel.For(S, s =>
        {
            for (int j = 0; j < V; j++)
            {
                float gv = g[s * V + j];
                if (gv == 0) continue;
                int tok = _start[s] + _argMax[s * V + j];
                Gemm.Axpy(gv, d.AsSpan(j * H, H), dT.AsSpan(tok * H, H));
            }
        });
    }

    private void BackwardSum(float[] t, float[] d, float[] b, float[] dPooled, float[] dT, float[] dD, float[] dB)
    {
        int N = _tokens, V = _vocab, H = _hidden;
        const int Chunk = 1024;
        var pool = ArrayPool<float>.Shared;
        float[] tT = pool.Rent(Math.Max(1, H * N)); // [H, N]
        Gemm.Transpose(t, 0, N, H, tT, 0);
        float[] logits = pool.Rent(N * Chunk);  // [N, C]
        float[] dLT = pool.Rent(Chunk * N);     // [C, N]
        float[] dcT = pool.Rent(H * Chunk);     // [H, C]
        for (int j0 = 0; j0 < V; j0 += Chunk)
        {
            int C = Math.Min(Chunk, V - j0);
            Gemm.MatMulTransB(t, 0, d, j0 * H, logits, 0, N, C, H, accumulate: false);
            for (int tok = 0; tok < N; tok++)
            {
                int s = _seqOfToken[tok];
                for (int j = 0; j < C; j++)
                {
                    float x = logits[tok * C + j] + b[j0 + j];
                    float gl = (float)(dPooled[s * V + j0 + j] * SpladeActivation.Derivative(x, _doubleLog));
                    logits[tok * C + j] = gl; // reuse as dLogits [N, C]
                }
            }
            for (int j = 0; j < C; j++)
            {
                double sum = 0;
                for (int tok = 0; tok < N; tok++) sum += logits[tok * C + j];
                dB[j0 + j] += (float)sum;
            }
            // dT += dL · D_c   (D_c as its transpose [H, C])
            Gemm.Transpose(d, j0 * H, C, H, dcT, 0);
            Gemm.MatMulTransB(logits, 0, dcT, 0, dT, 0, N, H, C, accumulate: true);
            // dD_c += dLᵀ · T
            Gemm.Transpose(logits, 0, N, C, dLT, 0);
            Gemm.MatMulTransB(dLT, 0, tT, 0, dD, j0 * H, C, H, N, accumulate: true);
        }
        pool.Return(tT); pool.Return(logits); pool.Return(dLT); pool.Return(dcT);
    }
}
