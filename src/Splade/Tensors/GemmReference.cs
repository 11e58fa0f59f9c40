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

    /// <summary>dX[m, k] = dY[m, n]·W[n, k], accumulated in double.</summary>
    public static void BackwardInput(ReadOnlySpan<float> dy, int m, int n, ReadOnlySpan<float> w, int k, Span<float> dx)
    {
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
            {
                double acc = 0;
                for (int j = 0; j < n; j++) acc += (double)dy[i * n + j] * w[j * k + p];
                dx[i * k + p] = (float)acc;
            }
    }

    /// <summary>dW[n, k] += dY[m, n]ᵀ·X[m, k] and dBias[n] += Σ_rows dY (if not empty), accumulated in double.</summary>
    public static void BackwardWeight(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int m, int k, int n, Span<float> dW, Span<float> dBias)
    {
        for (int j = 0; j < n; j++)
        {
            for (int p = 0; p < k; p++)
            {
                double acc = 0;
                for (int i = 0; i < m; i++) acc += (double)dy[i * n + j] * x[i * k + p];
                dW[j * k + p] += (float)acc;
            }
            if (dBias.IsEmpty) continue;
            double b = 0;
            for (int i = 0; i < m; i++) b += dy[i * n + j];
            dBias[j] += (float)b;
        }
    }
}
