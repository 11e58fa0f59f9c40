namespace Splade.Tensors;

/// <summary>Plain triple-loop twin of <see cref="Gemm"/>, kept to test the fast kernel against.</summary>
public static class GemmReference
{
    /// <summary>Y[m, n] = X[m, k]·W[n, k]ᵀ + b (b may be empty), accumulated in double.</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<float> w, int n, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double acc = bias.IsEmpty ? 0.0 : bias[j];
                for (int p = 0; p < k; p++) acc += (double)x[i * k + p] * w[j * k + p];
                y[i * n + j] = (float)acc;
            }
        }
    }
}
