using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// out[s, j] = max(0, max over rows t of segment s of (x_t·W_jᵀ + b_j)), exactly, without computing
/// most of the float dot products. An integer product gives every logit an estimate
/// e_tj = x̃_t·W̃_j + b_j (x̃_t = s_t·q_t, W̃_j = s_j·q_j the dequantised row and weights) with a proven
/// bound |e_tj − exact_tj| ≤ δ_tj: with the residuals ρ_t = x_t − x̃_t and r_j = W_j − W̃_j,
/// x_t·W_j − x̃_t·W̃_j = ρ_t·W_j + x̃_t·r_j, so by Cauchy-Schwarz
/// δ_tj = ‖ρ_t‖₂·‖W_j‖₂ + ‖x̃_t‖₂·‖r_j‖₂ + ε·(max|x_t|·√K·‖W_j‖₂ + |b_j|)
/// (ε the float rounding slack of any summation order, applied to Σ|x||w| ≤ max|x|·√K·‖W‖₂). Both
/// residual norms are computed exactly from the stored levels; against the element-wise form
/// (s_t/2)·‖W_j‖₁ + (s_j/2)·‖x̃_t‖₁ this is about a quarter tighter on SPLADE's states and decoder.
/// The default 8-bit copy (63 weight levels, token rows at 65 levels stored as unsigned bytes
/// q + 65, the offset's contribution subtracted exactly) runs the byte kernel
/// <see cref="Int8Kernel"/>; the 16-bit copy runs <c>vpmaddwd</c> with about 2900 levels each side.
/// The best lower bound of a column is taken with δ at its largest over the segment's rows (Δ_j),
/// each row's upper bound with its own δ_tj; only rows whose upper bound reaches both 0 and the best
/// lower bound can hold the maximum, and those get an exact float dot product (<see cref="ExactDot"/>).
/// The result equals <c>Reference</c> bit for bit and does not depend on batching, on the
/// integer copy's width or on the thread count (jobs split columns only).
/// </summary>
public static unsafe class ScreenedColumnMax
{
    private const int TileRows = 6;
    private const int PanelsPerJob = 4; // 128 columns: integer panels 32 KB (8-bit) or 64 KB (16-bit), exact rows 128 KB for K = 256

    [ThreadStatic] private static float[]? t_estimates;
    // Shorts ahead of the 16-bit weight stream to prefetch (4 KB, 32 pair steps): a query reads each panel
    // once or twice, straight from memory, and the hint took 5-10 % off its screen (measured in the
    // encoder pipeline, one thread; documents, which reuse each panel, are unchanged); a prefetch
    // past the end of the data is harmless.
    private const int PrefetchDistance = 2048;

    /// <summary>Runs the screened column max for every segment (rows [starts[s], starts[s] + lengths[s]) of X) into <paramref name="output"/> [segments, N].</summary>
    public static void Run(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, QuantizedMatrix w, Span<float> output, ComputePool pool) =>
        Run(x, ldx, starts, lengths, w, output, Span<int>.Empty, pool);

    /// <summary>
    /// As <see cref="Run(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{int}, QuantizedMatrix, Span{float}, ComputePool)"/>, and
    /// <paramref name="argMax"/> [segments, N] (unless empty) receives the row within its segment of the first
    /// (lowest) row holding a positive column maximum, or −1 where the output is 0 (no positive logit).
    /// Candidate rows are tested in row order and a later row replaces the kept one only when strictly
    /// larger, which is torch.max's first-index rule on ties.
    /// </summary>
    public static void Run(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, QuantizedMatrix w, Span<float> output, Span<int> argMax, ComputePool pool)
    {
        if (!QuantizedMatrix.IsSupported) throw new PlatformNotSupportedException("The screened column max needs AVX-512 BW.");
        int segments = starts.Length, n = w.N, k = w.K, kp = w.KPadded;
        if (lengths.Length != segments) throw new ArgumentException("starts and lengths differ in length.", nameof(lengths));
        if (output.Length < (long)segments * n) throw new ArgumentException($"Output is too small for [{segments}, {n}].", nameof(output));
        if (ldx < k) throw new ArgumentException($"Row stride {ldx} is smaller than K = {k}.", nameof(ldx));
        int rows = 0, maxLen = 0;
        for (int s = 0; s < segments; s++)
        {
            if (starts[s] < 0 || lengths[s] < 0) throw new ArgumentException($"Segment {s} has a negative start or length.");
            rows = Math.Max(rows, starts[s] + lengths[s]);
            maxLen = Math.Max(maxLen, lengths[s]);
        }
        output[..(segments * n)].Clear();
        bool wantArg = !argMax.IsEmpty;
        if (wantArg)
        {
            if (argMax.Length < (long)segments * n) throw new ArgumentException($"argMax is too small for [{segments}, {n}].", nameof(argMax));
            argMax[..(segments * n)].Fill(-1);
        }
        if (rows == 0) return;
        if (x.Length < (long)(rows - 1) * ldx + k) throw new ArgumentException($"X is too small for [{rows}, {k}] with stride {ldx}.", nameof(x));

        bool bytes = w.WeightBits == 8;
        // Quantised token rows [rows, KPadded]: unsigned bytes u = q + levels (8-bit weights) or int16 q.
        byte[] qx = ArrayPool<byte>.Shared.Rent(rows * kp * (bytes ? 1 : 2));
        float[] tok = ArrayPool<float>.Shared.Rent(rows * 3); // per row: s_t, A_t, C_t (see QuantizeRows)
        try
        {
            fixed (float* px0 = x)
            {
                nint ax = (nint)px0;
                int levels = w.ActivationLevels;
                float eps = w.Slack;
                const int RowsPerJob = 64;
                pool.For((rows + RowsPerJob - 1) / RowsPerJob, j =>
                {
                    int r0 = j * RowsPerJob, n = Math.Min(rows, r0 + RowsPerJob) - r0;
                    QuantizeRows((float*)ax + (long)r0 * ldx, ldx, r0, n, k, kp, levels, eps, bytes, qx, tok);
                });
            }
            int[] segStarts = starts.ToArray(), segLengths = lengths.ToArray();
            int jobs = (w.PanelCount + PanelsPerJob - 1) / PanelsPerJob;
            fixed (float* px = x, po = output, prow = w.Rows, pb = w.Bias, pscale = w.Scale, pl2 = w.L2, pres = w.ResidualL2, pslack = w.BiasSlack, ptok = tok)
            fixed (byte* pq = qx, pw = w.Data)
            fixed (int* poff = w.Offset, parg = argMax)
            {
                var c = new Context
                {
                    X = px, Ldx = ldx, Out = po, N = n, K = k, KPadded = kp, Rows = prow, Bias = pb, Scale = pscale, L2 = pl2,
                    Residual = pres, Slack = pslack, Tok = ptok, Qx = pq, W = pw, Offset = poff, Panels = w.PanelCount, Bytes = bytes,
                    Arg = wantArg ? parg : null,
                };
                pool.For(jobs, job =>
                {
                    // Estimates of the job's columns for the rows of one segment [maxLen, PanelsPerJob·32].
                    float[] estimates = t_estimates is { } u && u.Length >= maxLen * PanelsPerJob * 32 ? u : (t_estimates = new float[Math.Max(maxLen, 512) * PanelsPerJob * 32]);
                    fixed (float* pu = estimates)
                        for (int s = 0; s < segStarts.Length; s++)
                            if (segLengths[s] > 0) Segment(c, job, s, segStarts[s], segLengths[s], pu);
                });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(qx);
            ArrayPool<float>.Shared.Return(tok);
        }
    }

    /// <summary>Plain twin: every logit through <see cref="ExactDot"/>, then max(0, column max).</summary>
    public static void Reference(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, QuantizedMatrix w, Span<float> output) =>
        Reference(x, ldx, starts, lengths, w, output, Span<int>.Empty);

    /// <summary>Plain twin with the arg-max of each positive column (first row on ties, −1 where the output is 0).</summary>
    public static void Reference(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, QuantizedMatrix w, Span<float> output, Span<int> argMax)
    {
        fixed (float* px = x, prow = w.Rows)
            for (int s = 0; s < starts.Length; s++)
                for (int j = 0; j < w.N; j++)
                {
                    float best = 0;
                    int arg = -1;
                    for (int t = starts[s]; t < starts[s] + lengths[s]; t++)
                    {
                        float e = ExactDot(px + (long)t * ldx, prow + (long)j * w.K, w.K) + w.Bias[j];
                        if (e > best) arg = t - starts[s];
                        best = Math.Max(best, e);
                    }
                    output[s * w.N + j] = best;
                    if (!argMax.IsEmpty) argMax[s * w.N + j] = arg;
                }
    }

    /// <summary>Σ_k x[k]·w[k] in a fixed order: two Vector512 FMA chains over 32-wide steps, one 16-wide step, a lane sum, then a scalar FMA tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExactDot(float* x, float* w, int k)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= k; i += 32)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(w + i), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i + 16), Vector512.Load(w + i + 16), a1);
        }
        if (i + 16 <= k)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + i), Vector512.Load(w + i), a0);
            i += 16;
        }
        float sum = Vector512.Sum(a0 + a1);
        for (; i < k; i++) sum = MathF.FusedMultiplyAdd(x[i], w[i], sum);
        return sum;
    }

    private sealed class Context
    {
        public float* X, Out, Rows, Bias, Scale, L2, Residual, Slack, Tok;
        public byte* Qx, W;
        public int* Offset, Arg;
        public int Ldx, N, K, KPadded, Panels;
        public bool Bytes;
    }

    /// <summary>
    /// Rows [first, first + count) (x points at row first): q_t = round(x_t / s_t) with s_t = max|x_t| / levels,
    /// stored as bytes q + levels (<paramref name="bytes"/>) or int16 q, padding q = 0;
    /// tok[3t..] = s_t, A_t = ‖ρ_t‖₂ + ε·max|x_t|·√K, C_t = ‖x̃_t‖₂ (rounded up).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeRows(float* x, int ldx, int first, int count, int k, int kp, int levels, float eps, bool bytes, byte[] qx, float[] tok)
    {
        fixed (byte* qbase = qx)
        for (int t = first; t < first + count; t++)
        {
            var row = new ReadOnlySpan<float>(x + (long)(t - first) * ldx, k);
            float maxAbs = Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row));
            byte* qb = qbase + (long)t * kp;
            short* qs = (short*)qbase + (long)t * kp;
            bool tiny = !(maxAbs >= 1e-30f) || float.IsInfinity(maxAbs);
            float s = tiny ? 0 : maxAbs / levels, inv = tiny ? 0 : 1f / s;
            int c = 0;
            if (!tiny && k >= 16)
            {
                // Same values as the scalar loop: float product, round half to even, clamp, exact conversion.
                Vector512<float> vinv = Vector512.Create(inv), hi = Vector512.Create((float)levels), lo = -hi;
                Vector512<int> shift = Vector512.Create(levels);
                float* src = x + (long)(t - first) * ldx;
                for (; c + 16 <= k; c += 16)
                {
                    Vector512<float> r = Vector512.Round(Vector512.Load(src + c) * vinv);
                    Vector512<int> v = Vector512.ConvertToInt32(Vector512.Min(Vector512.Max(r, lo), hi));
                    if (bytes) Avx512F.ConvertToVector128Byte(v + shift).Store(qb + c);
                    else Avx512F.ConvertToVector256Int16(v).Store(qs + c);
                }
            }
            for (; c < kp; c++)
            {
                // Tiny (or non-finite) rows get q = 0 (estimate b_j), so ρ_t = x_t and the bound ‖x_t‖₂·‖W_j‖₂ (NaN/∞ propagate into it).
                int v = c >= k || tiny ? 0 : (int)Math.Clamp(MathF.Round(row[c] * inv), -levels, levels);
                if (bytes) qb[c] = (byte)(v + levels);
                else qs[c] = (short)v;
            }
            // ‖ρ_t‖₂ and ‖x̃_t‖₂ from the stored levels, in double (ρ = x − s·q exactly: s·q is exact in
            // double and x − s·q loses nothing), inflated by 10⁻⁶ before the rounding to float. The
            // float slack ε·max|x_t|·‖W_j‖₁ ≤ ε·max|x_t|·√K·‖W_j‖₂ joins the ‖W_j‖₂ term. NaN/∞ in the
            // row propagate into A_t.
            double residualSquares = 0, levelSquares = 0;
            for (int i = 0; i < k; i++)
            {
                int v = bytes ? qb[i] - levels : qs[i];
                double r = row[i] - (double)s * v;
                residualSquares += r * r;
                levelSquares += (double)v * v;
            }
            tok[3 * t] = s;
            tok[3 * t + 1] = (float)((Math.Sqrt(residualSquares) + eps * (double)maxAbs * Math.Sqrt(k)) * (1 + 1e-6));
            tok[3 * t + 2] = (float)(s * Math.Sqrt(levelSquares) * (1 + 1e-6));
        }
    }

    /// <summary>
    /// One job's columns of one segment. The kernel's integer sums become estimates
    /// e_tj = sums·(s_t·s_j) + b_j (stored, with their column maximum M_j). The bound used is the
    /// segment-wide Δ_j = A·‖W_j‖₂ + C·‖r_j‖₂ + ε|b_j| with A = max_t A_t and C = max_t C_t, which is
    /// at least every δ_tj of the segment, so [e_tj − Δ_j, e_tj + Δ_j] still holds the exact logit and
    /// M_j − Δ_j is a lower bound of the column maximum (fl(e − Δ) is monotone in e, so the maximum of
    /// the rounded lower bounds is fl(M_j − Δ_j)). Per tile row this leaves one subtraction (8-bit
    /// offset), one conversion, one multiply, one FMA, one store and one max per 16 columns. The
    /// candidate scan, which runs only for 16-column blocks that can be positive, tests each row
    /// against its own e_tj + δ_tj ≤ e_tj + Δ_j: for the 8-bit copy this halved the exact dot products
    /// of 80-token documents (bert-mini, element-wise bound: 106 000 to 55 000 per 32-document batch;
    /// a 10-token query 322 to 224), since Δ_j is set by the segment's largest rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Segment(Context c, int job, int s, int start, int len, float* estimates)
    {
        int p0 = job * PanelsPerJob, p1 = Math.Min(c.Panels, p0 + PanelsPerJob);
        int cols = (p1 - p0) * 32, lde = PanelsPerJob * 32;
        int pairs = c.KPadded / 2;
        Vector512<float>* best = stackalloc Vector512<float>[PanelsPerJob * 2];
        for (int i = 0; i < PanelsPerJob * 2; i++) best[i] = Vector512.Create(float.NegativeInfinity);
        int* tile = stackalloc int[TileRows * 32];
        for (int r0 = 0; r0 < len; r0 += TileRows)
        {
            int tr = Math.Min(TileRows, len - r0);
            byte* xq = c.Qx + (long)(start + r0) * c.KPadded * (c.Bytes ? 1 : 2);
            float* tok = c.Tok + 3 * (start + r0);
            for (int p = p0; p < p1; p++)
            {
                if (c.Bytes) Int8Kernel.Run(xq, c.KPadded, tr, (sbyte*)c.W + (long)p * c.KPadded * 32, c.KPadded, tile);
                else IntKernelRows((short*)xq, c.KPadded, tr, (short*)c.W + (long)p * c.KPadded * 32, pairs, tile);
                for (int h = 0; h < 2; h++)
                {
                    int j = p * 32 + 16 * h, li = (p - p0) * 2 + h;
                    Vector512<float> scale = Vector512.Load(c.Scale + j), bias = Vector512.Load(c.Bias + j), m = best[li];
                    // Byte kernel: Σ u·q − levels·Σ q = Σ q_x·q, exactly (int32, no overflow: |Σ q_x·q| ≤ K·65·63).
                    Vector512<int> offset = c.Bytes ? Vector512.Load(c.Offset + j) : Vector512<int>.Zero;
                    float* e = estimates + (long)r0 * lde + (p - p0) * 32 + 16 * h;
                    for (int r = 0; r < tr; r++)
                    {
                        Vector512<float> sums = Avx512F.ConvertToVector512Single(Vector512.Load(tile + r * 32 + 16 * h) - offset);
                        Vector512<float> estimate = Vector512.FusedMultiplyAdd(sums, Vector512.Create(tok[3 * r]) * scale, bias);
                        estimate.Store(e + (long)r * lde);
                        m = Vector512.Max(m, estimate);
                    }
                    best[li] = m;
                }
            }
        }
        // Segment-wide token terms of the bound (A_t, C_t ≥ 0; NaN propagates as in the per-token bound).
        float a = 0, cc = 0;
        for (int t = start; t < start + len; t++)
        {
            a = Math.Max(a, c.Tok[3 * t + 1]);
            cc = Math.Max(cc, c.Tok[3 * t + 2]);
        }
        float* outRow = c.Out + (long)s * c.N;
        long exactDots = 0;
        if (!float.IsFinite(a) || !float.IsFinite(cc))
        {
            // A NaN or infinite token row (or one so large that its bound overflows) gives no usable
            // bound: every logit of the segment is computed exactly, in the Reference's order.
            for (int j = p0 * 32; j < Math.Min(c.N, p1 * 32); j++)
            {
                float m = 0;
                for (int t = start; t < start + len; t++)
                {
                    float e = ExactDot(c.X + (long)t * c.Ldx, c.Rows + (long)j * c.K, c.K) + c.Bias[j];
                    if (e > m && c.Arg != null) c.Arg[(long)s * c.N + j] = t - start;
                    m = Math.Max(m, e);
                }
                outRow[j] = m;
            }
            Interlocked.Add(ref s_exactDots, (long)len * (Math.Min(c.N, p1 * 32) - p0 * 32));
            return;
        }
        Vector512<float> at = Vector512.Create(a), ct = Vector512.Create(cc);
        // Candidates: rows whose upper bound reaches the best lower bound and exceeds 0.
        for (int v = 0; v < cols / 16; v++)
        {
            int colBase = p0 * 32 + 16 * v;
            Vector512<float> l2 = Vector512.Load(c.L2 + colBase), res = Vector512.Load(c.Residual + colBase), slack = Vector512.Load(c.Slack + colBase);
            Vector512<float> delta = Vector512.FusedMultiplyAdd(at, l2, Vector512.FusedMultiplyAdd(ct, res, slack));
            // fl(e + Δ) is monotone in e, so no row can pass "ub > 0" when the column maxima fail it:
            // most 16-column blocks end here (SPLADE's logits are mostly negative).
            if (!Vector512.GreaterThanAny(best[v] + delta, Vector512<float>.Zero)) continue;
            Vector512<float> threshold = Vector512.Max(best[v] - delta, Vector512<float>.Zero);
            float* tok = c.Tok + 3 * start;
            for (int t = 0; t < len; t++)
            {
                // The row's own bound δ_tj ≤ Δ_j: a tighter upper bound (the lower bound above stays the segment's).
                Vector512<float> rowDelta = Vector512.FusedMultiplyAdd(Vector512.Create(tok[3 * t + 1]), l2,
                    Vector512.FusedMultiplyAdd(Vector512.Create(tok[3 * t + 2]), res, slack));
                Vector512<float> ub = Vector512.Load(estimates + (long)t * lde + 16 * v) + rowDelta;
                ulong bits = (Vector512.GreaterThanOrEqual(ub, threshold) & Vector512.GreaterThan(ub, Vector512<float>.Zero)).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    int j = colBase + lane;
                    if (j >= c.N) continue;
                    exactDots++;
                    float exact = ExactDot(c.X + (long)(start + t) * c.Ldx, c.Rows + (long)j * c.K, c.K) + c.Bias[j];
                    if (exact > outRow[j])
                    {
                        outRow[j] = exact;
                        if (c.Arg != null) c.Arg[(long)s * c.N + j] = t;
                    }
                }
            }
        }
        if (exactDots != 0) Interlocked.Add(ref s_exactDots, exactDots);
    }

    private static long s_exactDots;

    /// <summary>Exact float dot products computed by <c>Run</c> since the process started (all threads; for measurements and tests).</summary>
    internal static long ExactDotCount => Interlocked.Read(ref s_exactDots);

    /// <summary>Dispatches a tile of <paramref name="rows"/> (1..6) rows to the 16-bit kernel compiled for that count.</summary>
    private static void IntKernelRows(short* x, int ldx, int rows, short* panel, int pairs, int* tile)
    {
        switch (rows)
        {
            case 6: IntKernel<TileRows6>(x, ldx, panel, pairs, tile); break;
            case 5: IntKernel<TileRows5>(x, ldx, panel, pairs, tile); break;
            case 4: IntKernel<TileRows4>(x, ldx, panel, pairs, tile); break;
            case 3: IntKernel<TileRows3>(x, ldx, panel, pairs, tile); break;
            case 2: IntKernel<TileRows2>(x, ldx, panel, pairs, tile); break;
            default: IntKernel<TileRows1>(x, ldx, panel, pairs, tile); break;
        }
    }

    /// <summary>tile[r][lane] = Σ_pairs q_x[r]·q_w[lane] over R.Count rows (the JIT drops the other accumulators) and 32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void IntKernel<R>(short* x, int ldx, short* panel, int pairs, int* tile) where R : struct, ITileRows
    {
        int rows = R.Count;
        int* x0 = (int*)x, x1 = (int*)(x + ldx), x2 = (int*)(x + 2 * ldx), x3 = (int*)(x + 3 * ldx), x4 = (int*)(x + 4 * ldx), x5 = (int*)(x + 5 * ldx);
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<int> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // Products of three rows go to fresh registers before they are added: with the multiply-add
        // written straight into "c += madd(...)" the JIT reuses one temporary for all of them, and the
        // loop runs about a fifth slower (measured 85 against 104 G multiply-adds per second per core).
        for (int p = 0; p < pairs; p++)
        {
            Vector512<short> w0 = Vector512.Load(panel), w1 = Vector512.Load(panel + 32);
            Sse.Prefetch0(panel + PrefetchDistance);
            Sse.Prefetch0(panel + PrefetchDistance + 32);
            panel += 64;
            Vector512<short> a0 = Vector512.Create(x0[p]).AsInt16();
            Vector512<short> a1 = rows > 1 ? Vector512.Create(x1[p]).AsInt16() : default;
            Vector512<short> a2 = rows > 2 ? Vector512.Create(x2[p]).AsInt16() : default;
            Vector512<int> m00 = Avx512BW.MultiplyAddAdjacent(a0, w0), m01 = Avx512BW.MultiplyAddAdjacent(a0, w1);
            Vector512<int> m10 = default, m11 = default, m20 = default, m21 = default;
            if (rows > 1) { m10 = Avx512BW.MultiplyAddAdjacent(a1, w0); m11 = Avx512BW.MultiplyAddAdjacent(a1, w1); }
            if (rows > 2) { m20 = Avx512BW.MultiplyAddAdjacent(a2, w0); m21 = Avx512BW.MultiplyAddAdjacent(a2, w1); }
            c00 += m00; c01 += m01;
            if (rows > 1) { c10 += m10; c11 += m11; }
            if (rows > 2) { c20 += m20; c21 += m21; }
            if (rows > 3)
            {
                Vector512<short> a3 = Vector512.Create(x3[p]).AsInt16();
                Vector512<short> a4 = rows > 4 ? Vector512.Create(x4[p]).AsInt16() : default;
                Vector512<short> a5 = rows > 5 ? Vector512.Create(x5[p]).AsInt16() : default;
                Vector512<int> m30 = Avx512BW.MultiplyAddAdjacent(a3, w0), m31 = Avx512BW.MultiplyAddAdjacent(a3, w1);
                Vector512<int> m40 = default, m41 = default, m50 = default, m51 = default;
                if (rows > 4) { m40 = Avx512BW.MultiplyAddAdjacent(a4, w0); m41 = Avx512BW.MultiplyAddAdjacent(a4, w1); }
                if (rows > 5) { m50 = Avx512BW.MultiplyAddAdjacent(a5, w0); m51 = Avx512BW.MultiplyAddAdjacent(a5, w1); }
                c30 += m30; c31 += m31;
                if (rows > 4) { c40 += m40; c41 += m41; }
                if (rows > 5) { c50 += m50; c51 += m51; }
            }
        }
        c00.Store(tile); c01.Store(tile + 16);
        if (rows > 1) { c10.Store(tile + 32); c11.Store(tile + 48); }
        if (rows > 2) { c20.Store(tile + 64); c21.Store(tile + 80); }
        if (rows > 3) { c30.Store(tile + 96); c31.Store(tile + 112); }
        if (rows > 4) { c40.Store(tile + 128); c41.Store(tile + 144); }
        if (rows > 5) { c50.Store(tile + 160); c51.Store(tile + 176); }
    }
}
