namespace Splade.Tensors;

/// <summary>Scalar double-precision twins of <see cref="Activations"/>, kept for tests.</summary>
public static class ActivationsReference
{
    /// <summary>erf(x) by its Maclaurin series (|x| &lt; 4) or ±1 beyond, where erfc &lt; 1.6e-8 is below float resolution near 1.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        double ax = Math.Abs(x);
        if (ax >= 4.0) return Math.Sign(x);
        // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
        double term = x, sum = x, x2 = x * x;
        for (int n = 1; n < 200; n++)
        {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
        }
        return sum * 2.0 / Math.Sqrt(Math.PI);
    }

    /// <summary>log(1 + x) in double (Goldberg's correction for small x).</summary>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>Applies <paramref name="transform"/> element by element in double.</summary>
    public static void Apply(ElementTransform transform, Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            double x = values[i];
            values[i] = (float)(transform switch
            {
                ElementTransform.None => x,
                ElementTransform.Relu => Math.Max(x, 0),
                ElementTransform.Gelu => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
                ElementTransform.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
                ElementTransform.Log1pRelu => Log1p(Math.Max(x, 0)),
                ElementTransform.Log1pLog1pRelu => Log1p(Log1p(Math.Max(x, 0))),
                _ => throw new ArgumentOutOfRangeException(nameof(transform)),
            });
        }
    }

    /// <summary>f'(x) in double for None, Relu (0 at 0), Gelu, GeluTanh, Log1pRelu and Log1pLog1pRelu.</summary>
    public static double Derivative(ElementTransform transform, double x)
    {
        switch (transform)
        {
            case ElementTransform.None: return 1;
            case ElementTransform.Relu: return x > 0 ? 1 : 0;
            case ElementTransform.Gelu: return 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
            case ElementTransform.GeluTanh:
            {
                double c = Math.Sqrt(2 / Math.PI), th = Math.Tanh(c * (x + 0.044715 * x * x * x));
                return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x);
            }
            case ElementTransform.Log1pRelu: return x > 0 ? 1 / (1 + x) : 0;
            case ElementTransform.Log1pLog1pRelu: return x > 0 ? 1 / ((1 + x) * (1 + Log1p(x))) : 0;
            default: throw new ArgumentOutOfRangeException(nameof(transform));
        }
    }
}
