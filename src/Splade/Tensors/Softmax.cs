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
}
