using ILGPU.Algorithms;

namespace Splade.Cuda.Kernels;

/// <summary>
/// Scalar element-wise functions for the kernels, the same formulas as the CPU's <c>Splade.Tensors.Activations</c>
/// (exact erf GELU by the single-precision erff split, Goldberg's log1p). Codes follow <c>ElementTransform</c>:
/// 0 none, 1 relu, 2 gelu, 3 gelu_tanh, 4 log1p∘relu, 5 log1p∘log1p∘relu.
/// </summary>
internal static class DeviceMath
{
    public const int None = 0, Relu = 1, Gelu = 2, GeluTanh = 3, Log1pRelu = 4, Log1pLog1pRelu = 5;

    /// <summary>f(x) for the transform <paramref name="code"/>.</summary>
    public static float Apply(int code, float x)
    {
        if (code == Relu) return XMath.Max(x, 0f);
        if (code == Gelu) return x * 0.5f * (1f + Erf(x * 0.70710678118654752f));
        if (code == GeluTanh)
        {
            float z = 0.79788456080286536f * (0.044715f * x * x * x + x);
            float e = XMath.Exp(2f * XMath.Abs(z));
            float th = 1f - 2f / (e + 1f);
            if (z < 0f) th = -th;
            return 0.5f * x * (1f + th);
        }
        if (code == Log1pRelu) return Log1p(XMath.Max(x, 0f));
        if (code == Log1pLog1pRelu) return Log1p(Log1p(XMath.Max(x, 0f)));
        return x;
    }

    /// <summary>log(1 + x) = log(u)·x/(u − 1) with u = 1 + x: exact where u rounds to 1.</summary>
    public static float Log1p(float x)
    {
        float u = 1f + x;
        if (u == 1f) return x;
        if (u == float.PositiveInfinity) return u;
        return XMath.Log(u) * (x / (u - 1f));
    }

    /// <summary>erf by the two minimax fits of the CPU kernel: a + a·p(a²) for |a| ≤ 0.9277, 1 − exp(q(|a|)) beyond.</summary>
    public static float Erf(float a)
    {
        float t = XMath.Abs(a), s = a * a;
        if (t > 0.927734375f)
        {
            float r = -1.72853470e-5f * t + 3.83197126e-4f;
            float u = -3.88396438e-3f * t + 2.42546219e-2f;
            r = r * s + u;
            r = r * t + -1.06777877e-1f;
            r = r * t + -6.34846687e-1f;
            r = r * t + -1.28717512e-1f;
            r = r * t - t;
            float large = 1f - XMath.Exp(XMath.Max(r, -87f));
            return a < 0f ? -large : large;
        }
        float q = -5.96761703e-4f;
        q = q * s + 4.99119423e-3f;
        q = q * s + -2.67681349e-2f;
        q = q * s + 1.12819925e-1f;
        q = q * s + -3.76125336e-1f;
        q = q * s + 1.28379166e-1f;
        return q * a + a;
    }
}
