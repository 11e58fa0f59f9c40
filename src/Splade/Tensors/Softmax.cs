using System.Numerics.Tensors;

namespace Splade.Tensors;

/// <summary>Numerically stable softmax: exp(x − max) / Σ exp(x − max).</summary>
public static class Softmax
{
    /// <summary>Softmax of one row, in place.</summary>
    public static void Forward(Span<float> row)
    {
        if (row.IsEmpty) return;
        float max = TensorPrimitives.Max(row);
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        float sum = TensorPrimitives.Sum(row);
        TensorPrimitives.Divide(row, sum, row);
    }

    /// <summary>Scalar double-precision twin of <see cref="Forward"/>.</summary>
    public static void Reference(Span<float> row)
    {
        if (row.IsEmpty) return;
        double max = double.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        double sum = 0;
        var e = new double[row.Length];
        for (int i = 0; i < row.Length; i++) { e[i] = Math.Exp(row[i] - max); sum += e[i]; }
        for (int i = 0; i < row.Length; i++) row[i] = (float)(e[i] / sum);
    }

    /// <summary>dS = P ⊙ (dP − Σ P·dP) for one row (the gradient through <see cref="Forward"/>; <paramref name="ds"/> may alias <paramref name="dp"/>).</summary>
    public static void Backward(ReadOnlySpan<float> p, ReadOnlySpan<float> dp, Span<float> ds)
    {
        if (p.IsEmpty) return;
        float dot = TensorPrimitives.Dot(p, dp);
        TensorPrimitives.Subtract(dp, dot, ds);
        TensorPrimitives.Multiply(ds, p, ds);
    }

    /// <summary>Scalar double-precision twin of <see cref="Backward"/>.</summary>
    public static void BackwardReference(ReadOnlySpan<float> p, ReadOnlySpan<float> dp, Span<float> ds)
    {
        double dot = 0;
        for (int i = 0; i < p.Length; i++) dot += (double)p[i] * dp[i];
        for (int i = 0; i < p.Length; i++) ds[i] = (float)(p[i] * (dp[i] - dot));
    }
}
