namespace Splade.Training.Kernels;

/// <summary>
/// GELU forward and backward. <c>gelu</c> is the exact form x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default);
/// <c>gelu_new</c>/<c>gelu_pytorch_tanh</c> the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
/// </summary>
internal static class Gelu
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794; // 1/√(2π)
    private const double SqrtTwoOverPi = 0.79788456080286535588;

    /// <summary>
    /// erf accurate to about 6e-8 absolute everywhere (and relatively near 0), evaluated in double:
    /// Taylor series below |x| = 0.5, above it erfc from the Chebyshev fit of Numerical Recipes (§6.2,
    /// relative error below 1.2e-7 of erfc ≤ 0.48).
    /// </summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        if (z < 0.5)
        {
            // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)); 8 terms reach 1e-17 at |x| = 0.5.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n <= 8; n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            return 1.1283791670955126 * sum;
        }
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }

    /// <summary>Reference erf to double precision: power series for |x| &lt; 3, continued fraction of erfc above.</summary>
    public static double ErfReference(double x)
    {
        double z = Math.Abs(x);
        double r;
        if (z < 3)
        {
            double x2 = z * z, term = z, sum = z;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 1.1283791670955126 * sum;
        }
        else
        {
            // erfc(z) = e^{-z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated from the tail.
            double f = z;
            for (int n = 80; n >= 1; n--) f = z + n * 0.5 / f;
            r = 1.0 - Math.Exp(-z * z) / (1.7724538509055160 * f);
        }
        return x < 0 ? -r : r;
    }

    /// <summary>y = GELU(x) element-wise.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, bool tanhApprox)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)Value(x[i], tanhApprox);
    }

    /// <summary>dx = dy · GELU'(x) element-wise (dx may alias dy).</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool tanhApprox)
    {
        for (int i = 0; i < x.Length; i++) dx[i] = (float)(dy[i] * Derivative(x[i], tanhApprox));
    }

    public static double Value(double x, bool tanhApprox)
    {
        if (tanhApprox) return 0.5 * x * (1 + Math.Tanh(SqrtTwoOverPi * (x + 0.044715 * x * x * x)));
        return 0.5 * x * (1 + Erf(x * InvSqrt2));
    }

    /// <summary>d/dx GELU: Φ(x) + x·φ(x) for the exact form.</summary>
    public static double Derivative(double x, bool tanhApprox)
    {
        if (tanhApprox)
        {
            double th = Math.Tanh(SqrtTwoOverPi * (x + 0.044715 * x * x * x));
            return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * SqrtTwoOverPi * (1 + 3 * 0.044715 * x * x);
        }
        return 0.5 * (1 + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * Math.Exp(-0.5 * x * x);
    }
}
