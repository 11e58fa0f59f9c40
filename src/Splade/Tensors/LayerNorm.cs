using System.Numerics.Tensors;

namespace Splade.Tensors;

/// <summary>
/// Row-wise layer normalisation: y = (x − mean) / sqrt(var + eps) · γ + β with the biased variance
/// (divide by n), as <c>torch.nn.LayerNorm</c>.
/// </summary>
public static partial class LayerNorm
{
    /// <summary>Normalises each of the <paramref name="rows"/> rows of width <paramref name="cols"/>; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y)
    {
        if (gamma.Length != cols || beta.Length != cols) throw new ArgumentException($"gamma/beta must have {cols} values.");
        if (x.Length < rows * cols || y.Length < rows * cols) throw new ArgumentException($"Buffers are smaller than [{rows}, {cols}].");
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * cols, cols);
            Span<float> yr = y.Slice(r * cols, cols);
            float mean = TensorPrimitives.Sum(xr) / cols;
            TensorPrimitives.Subtract(xr, mean, yr);
            float variance = TensorPrimitives.SumOfSquares(yr) / cols;
            float rstd = 1f / MathF.Sqrt(variance + eps);
            TensorPrimitives.Multiply(yr, rstd, yr);
            TensorPrimitives.FusedMultiplyAdd(yr, gamma, beta, yr);
        }
    }

    /// <summary>y = LayerNorm(x + residual), row by row; <paramref name="y"/> may alias either input.</summary>
    public static void AddForward(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int rows, int cols, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y)
    {
        TensorPrimitives.Add(x[..(rows * cols)], residual[..(rows * cols)], y[..(rows * cols)]);
        Forward(y, rows, cols, gamma, beta, eps, y);
    }

    /// <summary>Scalar double-precision twin of <see cref="Forward"/>.</summary>
    public static void Reference(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            double mean = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            double variance = 0;
            for (int c = 0; c < cols; c++) { double d = x[r * cols + c] - mean; variance += d * d; }
            variance /= cols;
            double rstd = 1.0 / Math.Sqrt(variance + eps);
            for (int c = 0; c < cols; c++) y[r * cols + c] = (float)((x[r * cols + c] - mean) * rstd * gamma[c] + beta[c]);
        }
    }
}
