namespace Splade.Training.Losses;

/// <summary>
/// SPLADE vectors of one batch laid out column by column: column c (0 = queries, 1 = positives,
/// 2.. = negatives) row b is vector <c>c·B + b</c> of <see cref="Values"/> [C·B, V].
/// </summary>
public readonly record struct SparseBatch(float[] Values, int Rows, int Columns, int Vocab)
{
    public ReadOnlySpan<float> Vector(int column, int row) => Values.AsSpan((column * Rows + row) * Vocab, Vocab);
}

/// <summary>Loss value and its weighted components (as sentence-transformers logs them).</summary>
public readonly record struct LossParts(double Total, double Base, double DocumentRegularizer, double QueryRegularizer);

/// <summary>A ranking loss on a batch of SPLADE vectors that also writes its gradient.</summary>
public interface IRankingLoss
{
    /// <summary>Name with parameters, for the model card.</summary>
    string Describe();

    /// <summary>
    /// Returns the loss and ADDS <paramref name="gradScale"/>·∂loss/∂values into <paramref name="grad"/> (same layout).
    /// <paramref name="labels"/> [B, C−2] holds teacher margins for distillation losses, else null.
    /// </summary>
    double ForwardBackward(SparseBatch batch, float[]? labels, float[] grad, double gradScale);
}

internal static class SparseMath
{
    /// <summary>Dot product in double.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != 0) s += (double)a[i] * b[i];
        return s;
    }

    /// <summary>dst += alpha · x.</summary>
    public static void Axpy(double alpha, ReadOnlySpan<float> x, Span<float> dst)
    {
        if (alpha == 0) return;
        for (int i = 0; i < x.Length; i++)
            if (x[i] != 0) dst[i] += (float)(alpha * x[i]);
    }

    /// <summary>The positions of the non-zeros of <paramref name="a"/>, ascending (NaN counts as non-zero, as in <see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>).</summary>
    public static int[] NonZeros(ReadOnlySpan<float> a)
    {
        int count = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] != 0) count++;
        var nz = new int[count];
        for (int i = 0, n = 0; i < a.Length; i++) if (a[i] != 0) nz[n++] = i;
        return nz;
    }

    /// <summary><see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> over the listed non-zeros of a: the same terms in the same order, so the same double.</summary>
    public static double Dot(ReadOnlySpan<float> a, int[] aNonZeros, ReadOnlySpan<float> b)
    {
        double s = 0;
        foreach (int i in aNonZeros) s += (double)a[i] * b[i];
        return s;
    }

    /// <summary><see cref="Axpy(double, ReadOnlySpan{float}, Span{float})"/> over the listed non-zeros of x: the same updates.</summary>
    public static void Axpy(double alpha, ReadOnlySpan<float> x, int[] xNonZeros, Span<float> dst)
    {
        if (alpha == 0) return;
        foreach (int i in xNonZeros) dst[i] += (float)(alpha * x[i]);
    }
}

/// <summary>
/// SparseMultipleNegativesRankingLoss: for row i, scores s_ic = scale·(q_i · d_c) over the candidates
/// (every positive of the batch, then every negative column); loss = mean_i (logsumexp_c s_ic − s_ii).
/// Gradient: ∂/∂s_ic = (softmax_ic − [c = i]) / B.
/// </summary>
public sealed class SparseMultipleNegativesRankingLoss(double scale = 1.0) : IRankingLoss
{
    /// <summary>Multiplier of the dot scores.</summary>
    public double Scale { get; } = scale;

    /// <inheritdoc/>
    public string Describe() => $"SparseMultipleNegativesRankingLoss(scale={Scale:0.0###}, similarity_fct='dot_score')";

    /// <inheritdoc/>
    public double ForwardBackward(SparseBatch batch, float[]? labels, float[] grad, double gradScale)
    {
        int B = batch.Rows, V = batch.Vocab, nc = (batch.Columns - 1) * B;
        if (batch.Columns < 2) throw new ArgumentException("SparseMultipleNegativesRankingLoss needs at least (query, positive) columns.");
        var scores = new double[B * nc];
        // The non-zeros of every vector, once: [column·B + row] (queries first, then the nc documents).
        var nonZeros = new int[B + nc][];
        Parallel.For(0, B + nc, v => nonZeros[v] = SparseMath.NonZeros(batch.Values.AsSpan(v * V, V)));
        Parallel.For(0, B, i =>
        {
            var q = batch.Vector(0, i);
            for (int c = 0; c < nc; c++) scores[i * nc + c] = Scale * SparseMath.Dot(q, nonZeros[i], batch.Values.AsSpan((B + c) * V, V));
        });
        double loss = 0;
        var dScores = new double[B * nc];
        for (int i = 0; i < B; i++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < nc; c++) max = Math.Max(max, scores[i * nc + c]);
            double sum = 0;
            for (int c = 0; c < nc; c++) sum += Math.Exp(scores[i * nc + c] - max);
            double lse = max + Math.Log(sum);
            loss += lse - scores[i * nc + i];
            for (int c = 0; c < nc; c++)
                dScores[i * nc + c] = (Math.Exp(scores[i * nc + c] - lse) - (c == i ? 1 : 0)) / B;
        }
        loss /= B;
        double k = gradScale * Scale;
        // dq_i = Σ_c ds_ic·d_c ; dd_c = Σ_i ds_ic·q_i
        Parallel.For(0, B, i =>
        {
            var dq = grad.AsSpan(i * V, V);
            for (int c = 0; c < nc; c++) SparseMath.Axpy(k * dScores[i * nc + c], batch.Values.AsSpan((B + c) * V, V), nonZeros[B + c], dq);
        });
        Parallel.For(0, nc, c =>
        {
            var dd = grad.AsSpan((B + c) * V, V);
            for (int i = 0; i < B; i++) SparseMath.Axpy(k * dScores[i * nc + c], batch.Vector(0, i), nonZeros[i], dd);
        });
        return loss;
    }
}

/// <summary>
/// SparseMarginMSELoss: student margins m_ik = q_i·p_i − q_i·n_ik against teacher margins t_ik (labels
/// [B, C−2]); loss = mean over (i, k) of (m_ik − t_ik)².
/// </summary>
public sealed class SparseMarginMseLoss : IRankingLoss
{
    /// <inheritdoc/>
    public string Describe() => "SparseMarginMSELoss(similarity_fct='dot_score')";

    /// <inheritdoc/>
    public double ForwardBackward(SparseBatch batch, float[]? labels, float[] grad, double gradScale)
    {
        int B = batch.Rows, V = batch.Vocab, K = batch.Columns - 2;
        if (K < 1) throw new ArgumentException("SparseMarginMSELoss needs (query, positive, negative...) columns.");
        if (labels is null || labels.Length != B * K)
            throw new ArgumentException($"SparseMarginMSELoss needs {B}×{K} teacher margins, got {labels?.Length ?? 0}.");
        double loss = 0;
        var dm = new double[B * K];
        for (int i = 0; i < B; i++)
        {
            double sp = SparseMath.Dot(batch.Vector(0, i), batch.Vector(1, i));
            for (int kk = 0; kk < K; kk++)
            {
                double m = sp - SparseMath.Dot(batch.Vector(0, i), batch.Vector(2 + kk, i));
                double diff = m - labels[i * K + kk];
                loss += diff * diff;
                dm[i * K + kk] = 2 * diff / (B * K);
            }
        }
        for (int i = 0; i < B; i++)
        {
            var q = batch.Vector(0, i);
            var dq = grad.AsSpan(i * V, V);
            for (int kk = 0; kk < K; kk++)
            {
                double g = gradScale * dm[i * K + kk];
                // ∂m/∂q = p − n ; ∂m/∂p = q ; ∂m/∂n = −q
                SparseMath.Axpy(g, batch.Vector(1, i), dq);
                SparseMath.Axpy(-g, batch.Vector(2 + kk, i), dq);
                SparseMath.Axpy(g, q, grad.AsSpan((1 * B + i) * V, V));
                SparseMath.Axpy(-g, q, grad.AsSpan(((2 + kk) * B + i) * V, V));
            }
        }
        return loss / (B * K);
    }
}

/// <summary>FLOPS regularizer: FLOPS(E) = Σ_j (mean_i E_ij)²; ∂/∂E_ij = 2·mean_j / n.</summary>
public static class FlopsRegularizer
{
    /// <summary>Over rows [firstRow, firstRow + rows) of <paramref name="values"/> [*, V]; adds weight·gradient.</summary>
    public static double ForwardBackward(float[] values, int firstRow, int rows, int vocab, float[]? grad, double weight)
    {
        var mean = new double[vocab];
        for (int r = 0; r < rows; r++)
        {
            var row = values.AsSpan((firstRow + r) * vocab, vocab);
            for (int j = 0; j < vocab; j++) mean[j] += row[j];
        }
        double f = 0;
        for (int j = 0; j < vocab; j++) { mean[j] /= rows; f += mean[j] * mean[j]; }
        if (grad is not null && weight != 0)
            for (int r = 0; r < rows; r++)
            {
                var g = grad.AsSpan((firstRow + r) * vocab, vocab);
                for (int j = 0; j < vocab; j++)
                    if (mean[j] != 0) g[j] += (float)(weight * 2 * mean[j] / rows);
            }
        return f;
    }
}

/// <summary>
/// SpladeLoss = base ranking loss + document_regularizer_weight·FLOPS(all document columns concatenated)
/// + query_regularizer_weight·FLOPS(queries). The weights are mutable so a warm-up schedule can set them.
/// </summary>
public sealed class SpladeLoss(IRankingLoss baseLoss, double documentRegularizerWeight, double queryRegularizerWeight)
{
    public IRankingLoss BaseLoss { get; } = baseLoss;

    /// <summary>Current document regularizer weight.</summary>
    public double DocumentRegularizerWeight { get; set; } = documentRegularizerWeight;

    /// <summary>Current query regularizer weight.</summary>
    public double QueryRegularizerWeight { get; set; } = queryRegularizerWeight;

    /// <summary>Loss and its components; adds gradScale·∂loss/∂values into <paramref name="grad"/>.</summary>
    public LossParts ForwardBackward(SparseBatch batch, float[]? labels, float[] grad, double gradScale = 1.0)
    {
        double b = BaseLoss.ForwardBackward(batch, labels, grad, gradScale);
        int B = batch.Rows;
        double fd = FlopsRegularizer.ForwardBackward(batch.Values, B, (batch.Columns - 1) * B, batch.Vocab, grad, gradScale * DocumentRegularizerWeight);
        double fq = FlopsRegularizer.ForwardBackward(batch.Values, 0, B, batch.Vocab, grad, gradScale * QueryRegularizerWeight);
        double d = DocumentRegularizerWeight * fd, q = QueryRegularizerWeight * fq;
        return new LossParts(b + d + q, b, d, q);
    }
}
