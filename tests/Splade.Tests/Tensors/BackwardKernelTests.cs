using Splade.Tensors;
using static Splade.Tests.Tensors.KernelTestUtil;

namespace Splade.Tests.Tensors;

/// <summary>
/// The training backward kernels against their plain twins on awkward shapes (1, odd sizes, sizes that are
/// not multiples of the 6-row tile, the 16/32-wide panels or the vector width), one thread against two
/// bitwise, and the twins themselves against central finite differences of the forwards.
/// </summary>
public sealed class BackwardKernelTests
{
    private static readonly ComputePool One = new(1), Two = new(2);

    public static TheoryData<int, int, int, int> GemmShapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int panel in new[] { 16, 32 })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 7, 31), (7, 31, 1), (13, 33, 17), (31, 70, 7), (37, 100, 45) })
                data.Add(m, n, k, panel);
        return data;
    }

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void Gemm_backward_products_match_the_twin_and_do_not_depend_on_threads(int m, int n, int k, int panel)
    {
        float[] x = Random(m * k, 1), w = Random(n * k, 2), dy = Random(m * n, 3);
        var dxRef = new float[m * k];
        GemmReference.BackwardInput(dy, m, n, w, k, dxRef);
        float[] dwRef = Random(n * k, 4), dbRef = Random(n, 5);
        float[] dw0 = (float[])dwRef.Clone(), db0 = (float[])dbRef.Clone();
        GemmReference.BackwardWeight(x, dy, m, k, n, dwRef, dbRef);

        float[]? firstDx = null, firstDw = null, firstDb = null;
        foreach (var pool in new[] { One, Two })
        {
            var dx = new float[m * k];
            Gemm.BackwardInput(dy, m, n, PackedMatrix.PackTransposed(w, n, k, k, pool, panel), dx, k, accumulate: false, pool);
            Assert.True(MaxAbsDiff(dxRef, dx) <= 1e-5f * MathF.Sqrt(n), $"dX differs by {MaxAbsDiff(dxRef, dx)}");
            float[] dw = (float[])dw0.Clone(), db = (float[])db0.Clone();
            Gemm.BackwardWeight(x, dy, m, k, n, dw, db, pool);
            Assert.True(MaxAbsDiff(dwRef, dw) <= 1e-5f * MathF.Sqrt(m), $"dW differs by {MaxAbsDiff(dwRef, dw)}");
            Assert.True(MaxAbsDiff(dbRef, db) <= 1e-5f * MathF.Sqrt(m), $"db differs by {MaxAbsDiff(dbRef, db)}");
            if (firstDx is null) { firstDx = dx; firstDw = dw; firstDb = db; continue; }
            Assert.Equal(firstDx, dx);
            Assert.Equal(firstDw, dw);
            Assert.Equal(firstDb, db);
        }
        // Accumulating into dX adds the same product.
        var twice = (float[])firstDx!.Clone();
        Gemm.BackwardInput(dy, m, n, PackedMatrix.PackTransposed(w, n, k, k, Two, panel), twice, k, accumulate: true, Two);
        for (int i = 0; i < twice.Length; i++) Assert.Equal(2 * firstDx[i], twice[i], 5);
    }

    [Theory]
    [InlineData(1, 1, 1, 16)]
    [InlineData(13, 33, 17, 32)]
    [InlineData(100, 70, 45, 32)]
    [InlineData(37, 100, 64, 16)]
    public void Linear_with_derivative_equals_linear_then_the_fused_activation(int m, int n, int k, int panel)
    {
        float[] x = Random(m * k, 21), w = Random(n * k, 22), b = Random(n, 23);
        var packed = PackedMatrix.Pack(w, n, k, b, panel);
        foreach (var f in new[] { ElementTransform.Gelu, ElementTransform.GeluTanh, ElementTransform.Relu })
            foreach (var pool in new[] { One, Two })
            {
                float[] y = new float[m * n], d = new float[m * n];
                Gemm.LinearWithDerivative(x, m, k, packed, y, n, f, d, pool);
                float[] yRef = new float[m * n], dRef = new float[m * n];
                Gemm.Linear(x, m, k, packed, yRef, n, One);
                Activations.ApplyWithDerivative(f, yRef, dRef);
                Assert.Equal(yRef, y);
                Assert.Equal(dRef, d);
            }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 33)]
    [InlineData(127, 13, 64)]
    [InlineData(129, 100, 31)]
    [InlineData(300, 97, 70)]
    [InlineData(257, 6, 256)]
    public void Weight_gradient_in_place_equals_the_packed_path_bit_for_bit(int m, int n, int k)
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return; // the in-place kernel is the Vector512 path
        float[] x = Random(m * k, 11), dy = Random(m * n, 12), start = Random(n * k, 13);
        float[] packed = (float[])start.Clone();
        Gemm.BackwardWeightPacked(x, dy, m, k, n, packed, One);
        foreach (var pool in new[] { One, Two })
        {
            float[] direct = (float[])start.Clone();
            WeightGradient.Accumulate(x, dy, m, k, n, direct, pool);
            Assert.Equal(packed, direct);
        }
        // And both against the plain twin (the twin sums in double).
        float[] twin = (float[])start.Clone(), noBias = [];
        GemmReference.BackwardWeight(x, dy, m, k, n, twin, noBias);
        Assert.True(MaxAbsDiff(twin, packed) <= 1e-5f * MathF.Sqrt(m), $"dW differs from the twin by {MaxAbsDiff(twin, packed)}");
    }

    [Theory]
    [InlineData(8, new[] { 1, 7, 13 }, false)]
    [InlineData(20, new[] { 5, 1, 9 }, true)]
    [InlineData(32, new[] { 6, 11 }, true)]
    [InlineData(16, new[] { 3, 40, 1 }, true)]
    [InlineData(64, new[] { 1, 4, 7, 33, 70 }, true)]
    [InlineData(64, new[] { 9, 2, 31, 5 }, false)]
    public void Attention_backward_matches_the_twin_and_does_not_depend_on_threads(int headDim, int[] lengths, bool dropout)
    {
        int heads = 2, h = heads * headDim, ld = 3 * h, tokens = lengths.Sum();
        int[] starts = new int[lengths.Length];
        for (int s = 1; s < lengths.Length; s++) starts[s] = starts[s - 1] + lengths[s - 1];
        float[] qkv = Random(tokens * ld, 7), dc = Random(tokens * h, 8);
        int count = Attention.ProbabilityCount(lengths, heads);
        float[] mask = dropout ? MakeMask(count, 9) : [];
        float scale = 1f / MathF.Sqrt(headDim);

        // The twin works on one stride for everything: give it dContext and outputs at stride ld.
        var dcWide = new float[tokens * ld];
        for (int t = 0; t < tokens; t++) Array.Copy(dc, t * h, dcWide, t * ld, h);
        float[] ctxRef = new float[tokens * ld], dRef = new float[tokens * ld];
        Attention.BackwardReference(qkv, qkv.AsSpan(h), qkv.AsSpan(2 * h), ld, starts, lengths, heads, headDim, scale, mask,
            dcWide, ctxRef, dRef, dRef.AsSpan(h), dRef.AsSpan(2 * h));

        float[]? first = null;
        foreach (var pool in new[] { One, Two })
        {
            var probs = new float[count];
            var ctx = new float[tokens * h];
            Attention.TrainingForward(qkv, qkv.AsSpan(h), qkv.AsSpan(2 * h), ld, starts, lengths, heads, headDim, scale, probs, mask, ctx, h, pool);
            for (int t = 0; t < tokens; t++)
                for (int c = 0; c < h; c++) Assert.True(Math.Abs(ctx[t * h + c] - ctxRef[t * ld + c]) <= 1e-5f, $"context [{t}, {c}]");
            var d = new float[tokens * ld];
            Attention.Backward(qkv, qkv.AsSpan(h), qkv.AsSpan(2 * h), ld, starts, lengths, heads, headDim, scale, probs, mask, dc, h,
                d, d.AsSpan(h), d.AsSpan(2 * h), pool);
            Assert.True(MaxAbsDiff(dRef, d) <= 2e-5f, $"dQKV differs by {MaxAbsDiff(dRef, d)}");
            if (first is null) first = d;
            else Assert.Equal(first, d);
        }
    }

    [Fact]
    public void Attention_twin_matches_finite_differences()
    {
        int heads = 2, headDim = 3, h = 6, ld = 3 * h;
        int[] lengths = [3, 1, 4], starts = [0, 3, 4];
        int tokens = 8;
        float[] qkv = Random(tokens * ld, 21), r = Random(tokens * ld, 22);
        float[] mask = MakeMask(Attention.ProbabilityCount(lengths, heads), 23);
        for (int t = 0; t < tokens; t++) Array.Clear(r, t * ld + h, 2 * h); // only context columns probed
        double F()
        {
            var ctx = new float[tokens * ld];
            Attention.BackwardReference(qkv, qkv.AsSpan(h), qkv.AsSpan(2 * h), ld, starts, lengths, heads, headDim, 0.5, mask,
                new float[tokens * ld], ctx, new float[tokens * ld], new float[tokens * ld], new float[tokens * ld]);
            return Probe(ctx, r);
        }
        var d = new float[tokens * ld];
        Attention.BackwardReference(qkv, qkv.AsSpan(h), qkv.AsSpan(2 * h), ld, starts, lengths, heads, headDim, 0.5, mask,
            r, new float[tokens * ld], d, d.AsSpan(h), d.AsSpan(2 * h));
        CheckFd(qkv, d, F);
    }

    [Theory]
    [InlineData(ElementTransform.Gelu)]
    [InlineData(ElementTransform.GeluTanh)]
    [InlineData(ElementTransform.Relu)]
    public void Activation_backward_matches_the_twin(ElementTransform transform)
    {
        // 1203 values: not a multiple of the vector width; exact 0 included.
        float[] x = Enumerable.Range(-601, 1203).Select(i => i * 0.0125f).ToArray();
        float[] dy = Random(x.Length, 31);
        var fast = (float[])dy.Clone();
        Activations.Backward(transform, x, fast);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = dy[i] * ActivationsReference.Derivative(transform, x[i]);
            Assert.True(Math.Abs(fast[i] - expected) <= 2e-6 * (1 + Math.Abs(expected)), $"x = {x[i]}: {fast[i]} vs {expected}");
        }
        Assert.Equal(0f, fast[601] * (transform == ElementTransform.Relu ? 1 : 0)); // relu'(0) = 0
        // The fused forward (value and derivative from one pass) gives Apply's values and Backward's derivative exactly.
        float[] values = (float[])x.Clone(), derivative = new float[x.Length], applied = (float[])x.Clone();
        Activations.ApplyWithDerivative(transform, values, derivative);
        Activations.Apply(transform, applied);
        Assert.Equal(applied, values);
        var viaDerivative = (float[])dy.Clone();
        Activations.MultiplyBy(derivative, viaDerivative);
        Assert.Equal(fast, viaDerivative);
        // The twin's derivative against finite differences of the twin's forward.
        foreach (double v in new[] { -3.1, -0.7, 0.3, 1.9, 4.2 })
        {
            double step = 1e-4;
            Span<float> pair = [(float)(v + step), (float)(v - step)];
            ActivationsReference.Apply(transform, pair);
            Assert.Equal((pair[0] - pair[1]) / (2 * step), ActivationsReference.Derivative(transform, v), 2);
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(5, 7)]
    [InlineData(70, 37)]
    public void LayerNorm_backward_matches_the_twin_and_does_not_depend_on_threads(int rows, int cols)
    {
        float[] x = Random(rows * cols, 41, 2), g = Random(cols, 42), b = Random(cols, 43), dy = Random(rows * cols, 44);
        float[] dxRef = new float[rows * cols], dgRef = new float[cols], dbRef = new float[cols];
        LayerNorm.BackwardReference(x, rows, cols, g, 1e-5f, dy, dxRef, dgRef, dbRef);
        float[]? first = null;
        foreach (var pool in new[] { One, Two })
        {
            float[] y = new float[rows * cols], mean = new float[rows], rstd = new float[rows];
            LayerNorm.TrainingForward(x, rows, cols, g, b, 1e-5f, y, mean, rstd, pool);
            var yRef = new float[rows * cols];
            LayerNorm.Reference(x, rows, cols, g, b, 1e-5f, yRef);
            Assert.True(MaxAbsDiff(yRef, y) <= 1e-5f);
            float[] dx = new float[rows * cols], dg = new float[cols], db = new float[cols];
            LayerNorm.Backward(x, mean, rstd, g, dy, rows, cols, dx, false, dg, db, pool);
            Assert.True(MaxAbsDiff(dxRef, dx) <= 1e-4f, $"dx differs by {MaxAbsDiff(dxRef, dx)}");
            Assert.True(MaxAbsDiff(dgRef, dg) <= 1e-4f * rows, $"dγ differs by {MaxAbsDiff(dgRef, dg)}");
            Assert.True(MaxAbsDiff(dbRef, db) <= 1e-5f * rows);
            if (first is null) first = [.. dx, .. dg, .. db];
            else Assert.Equal(first, (float[])[.. dx, .. dg, .. db]);
        }
        // The twin against finite differences.
        double F() { var y = new float[rows * cols]; LayerNorm.Reference(x, rows, cols, g, b, 1e-5f, y); return Probe(y, dy); }
        CheckFd(x, dxRef, F);
        CheckFd(g, dgRef, F);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(33)]
    public void Softmax_backward_matches_the_twin(int n)
    {
        float[] p = Random(n, 51, 3), dp = Random(n, 52);
        Softmax.Forward(p);
        float[] fast = new float[n], slow = new float[n];
        Softmax.Backward(p, dp, fast);
        Softmax.BackwardReference(p, dp, slow);
        Assert.True(MaxAbsDiff(slow, fast) <= 1e-6f);
    }

    [Fact]
    public void Embedding_backward_scatter_adds_repeated_ids_like_the_twin()
    {
        int h = 37;
        int[] ids = [2, 5, 2, 0, 2], pos = [0, 1, 2, 0, 1], types = [0, 0, 1, 0, 1];
        float[] de = Random(ids.Length * h, 61);
        float[] wRef = new float[6 * h], pRef = new float[3 * h], tRef = new float[2 * h];
        Embeddings.BackwardReference(ids, pos, types, de, h, wRef, pRef, tRef);
        foreach (var pool in new[] { One, Two })
        {
            float[] w = new float[6 * h], p = new float[3 * h], t = new float[2 * h];
            Embeddings.Backward(ids, pos, types, de, h, w, p, t, pool);
            Assert.Equal(wRef, w);
            Assert.Equal(pRef, p);
            Assert.Equal(tRef, t);
        }
    }

    [Theory]
    [InlineData(ElementTransform.Log1pRelu, true)]
    [InlineData(ElementTransform.Log1pLog1pRelu, true)]
    [InlineData(ElementTransform.Log1pRelu, false)]
    public void Max_pooling_backward_is_sparse_matches_the_twin_and_follows_ties_and_zero_columns(ElementTransform f, bool screened)
    {
        if (screened && !QuantizedMatrix.IsSupported) return;
        int k = 20, vocab = 75;
        int[] lengths = [4, 1, 6], starts = [0, 4, 5];
        int tokens = 11, segments = 3;
        float[] hidden = Random(tokens * k, 71), w = Random(vocab * k, 72), b = Random(vocab, 73, 0.5f);
        Array.Copy(hidden, 5 * k, hidden, 8 * k, k); // tokens 0 and 3 of segment 2 are equal: every column ties
        for (int j = 0; j < 5; j++) b[j] = -100; // zero columns
        float[] dPooled = Random(segments * vocab, 74);
        var screen = screened ? QuantizedMatrix.Pack(w, vocab, k, b) : null;

        float[] maxLogit = new float[segments * vocab], pooled = new float[segments * vocab];
        int[] arg = new int[segments * vocab];
        PooledDecoder.MaxForward(hidden, k, starts, lengths, w, b, vocab, screen, f, maxLogit, arg, pooled, Two);
        for (int j = 0; j < 5; j++) Assert.All(Enumerable.Range(0, segments), s => Assert.Equal(-1, arg[s * vocab + j]));
        for (int j = 0; j < vocab; j++) Assert.NotEqual(3, arg[2 * vocab + j]); // ties go to the first token
        if (screen is not null)
        {
            float[] refMax = new float[segments * vocab];
            int[] refArg = new int[segments * vocab];
            ScreenedColumnMax.Reference(hidden, k, starts, lengths, screen, refMax, refArg);
            Assert.Equal(refMax, maxLogit);
            Assert.Equal(refArg, arg);
        }

        float[] dhRef = new float[tokens * k], dwRef = new float[vocab * k], dbRef = new float[vocab];
        PooledDecoder.MaxBackwardReference(hidden, k, starts, w, vocab, maxLogit, arg, dPooled, f, dhRef, dwRef, dbRef);
        float[]? first = null;
        foreach (var pool in new[] { One, Two })
        {
            float[] dh = new float[tokens * k], dw = new float[vocab * k], db = new float[vocab];
            PooledDecoder.MaxBackward(hidden, k, starts, lengths, w, vocab, maxLogit, arg, dPooled, f, dh, dw, db, pool);
            Assert.True(MaxAbsDiff(dhRef, dh) <= 1e-5f && MaxAbsDiff(dwRef, dw) <= 1e-5f && MaxAbsDiff(dbRef, db) <= 1e-5f);
            Assert.All(dh.AsSpan(8 * k, k).ToArray(), v => Assert.Equal(0f, v)); // the later tied token gets nothing
            for (int j = 0; j < 5; j++) Assert.Equal(0f, db[j]);
            if (first is null) first = [.. dh, .. dw, .. db];
            else Assert.Equal(first, (float[])[.. dh, .. dw, .. db]);
        }

        // The twin against finite differences of the pooled forward (without the tie, where max is not differentiable).
        // (Seed 71's tokens 0 and 1 of segment 0 come within 5e-5 of each other on one column, which no step resolves: new rows.)
        Array.Copy(Random(tokens * k, 76), hidden, tokens * k);
        PooledDecoder.MaxForward(hidden, k, starts, lengths, w, b, vocab, screen, f, maxLogit, arg, pooled, One);
        Array.Clear(dhRef); Array.Clear(dwRef); Array.Clear(dbRef);
        PooledDecoder.MaxBackwardReference(hidden, k, starts, w, vocab, maxLogit, arg, dPooled, f, dhRef, dwRef, dbRef);
        double F()
        {
            float[] m = new float[segments * vocab], p = new float[segments * vocab];
            PooledDecoder.MaxForward(hidden, k, starts, lengths, w, b, vocab, null, f, m, new int[segments * vocab], p, One);
            return Probe(p, dPooled);
        }
        // Small steps: the arg-max must not switch inside a step.
        CheckFd(hidden, dhRef, F, 1e-3, 3e-2);
        CheckFd(w, dwRef, F, 1e-3, 3e-2);
        CheckFd(b, dbRef, F, 1e-3, 3e-2);
    }

    [Theory]
    [InlineData(ElementTransform.Log1pRelu)]
    [InlineData(ElementTransform.Log1pLog1pRelu)]
    public void Sum_pooling_backward_matches_finite_differences(ElementTransform f)
    {
        int k = 5, vocab = 11;
        int[] lengths = [3, 2], starts = [0, 3];
        float[] hidden = Random(5 * k, 81), w = Random(vocab * k, 82), b = Random(vocab, 83, 0.5f), dPooled = Random(2 * vocab, 84);
        double F()
        {
            var p = new float[2 * vocab];
            PooledDecoder.SumForward(hidden, k, starts, lengths, PackedMatrix.Pack(w, vocab, k, b), f, p, One);
            return Probe(p, dPooled);
        }
        float[]? first = null;
        foreach (var pool in new[] { One, Two })
        {
            float[] dh = new float[5 * k], dw = new float[vocab * k], db = new float[vocab];
            PooledDecoder.SumBackward(hidden, k, starts, lengths, w, b, vocab, dPooled, f, dh, dw, db, pool);
            if (first is null)
            {
                first = [.. dh, .. dw, .. db];
                CheckFd(hidden, dh, F, 1e-3, 3e-2); CheckFd(w, dw, F, 1e-3, 3e-2); CheckFd(b, db, F, 1e-3, 3e-2);
            }
            else Assert.Equal(first, (float[])[.. dh, .. dw, .. db]);
        }
    }

    private static float[] MakeMask(int count, int seed)
    {
        var mask = new float[count];
        Dropout.MakeMask(new Random(seed), 0.3f, mask);
        return mask;
    }

    private static double Probe(float[] y, float[] r) { double s = 0; for (int i = 0; i < r.Length; i++) s += (double)y[i] * r[i]; return s; }

    /// <summary>Analytic gradient of x against central differences of f, relative to the gradient's scale.</summary>
    private static void CheckFd(float[] x, float[] grad, Func<double> f, double h = 1e-2, double tol = 2e-2)
    {
        double scale = Math.Max(1e-3, grad.Max(g => Math.Abs((double)g)));
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + (float)h; double up = f();
            x[i] = keep - (float)h; double down = f();
            x[i] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= tol * scale, $"element {i}: analytic {grad[i]:G6}, finite difference {fd:G6} (scale {scale:G3})");
        }
    }
}
