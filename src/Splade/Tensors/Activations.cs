using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>Element-wise maps applied in place by <see cref="Activations.Apply"/>.</summary>
public enum ElementTransform
{
    /// <summary>x.</summary>
    None,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>Exact GELU: x·Φ(x) = ½x(1 + erf(x/√2)).</summary>
    Gelu,
    /// <summary>Tanh GELU: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    GeluTanh,
    /// <summary>log(1 + max(x, 0)).</summary>
    Log1pRelu,
    /// <summary>log(1 + log(1 + max(x, 0))).</summary>
    Log1pLog1pRelu,
}

/// <summary>
/// Vectorised element-wise functions. Every element, tail included, goes through the same
/// Vector256 code (the tail is padded into a register), so a value never depends on its position.
/// </summary>
public static partial class Activations
{
    private const float Sqrt1Over2 = 0.70710678118654752f;
    private const float Sqrt2OverPi = 0.79788456080286536f;

    /// <summary>Applies <paramref name="transform"/> to every element of <paramref name="values"/> in place.</summary>
    public static void Apply(ElementTransform transform, Span<float> values)
    {
        switch (transform)
        {
            case ElementTransform.None: return;
            case ElementTransform.Relu: Map<ReluOp>(values); return;
            case ElementTransform.Gelu: Map<GeluOp>(values); return;
            case ElementTransform.GeluTanh: Map<GeluTanhOp>(values); return;
            case ElementTransform.Log1pRelu: Map<Log1pReluOp>(values); return;
            case ElementTransform.Log1pLog1pRelu: Map<Log1pLog1pReluOp>(values); return;
            default: throw new ArgumentOutOfRangeException(nameof(transform), transform, null);
        }
    }

    /// <summary>erf(x) for one value, through the same vector code (max error about 1 ulp).</summary>
    public static float Erf(float x)
    {
        Span<float> one = [x];
        Map<ErfOp>(one);
        return one[0];
    }

    /// <summary>log(1 + x) for one value, accurate also for tiny x.</summary>
    public static float Log1p(float x) => Log1pVector(Vector256.Create(x)).GetElement(0);

    private interface IVectorOp
    {
        static abstract Vector256<float> Invoke(Vector256<float> x);
    }

    private static void Map<TOp>(Span<float> values) where TOp : IVectorOp
    {
        int i = 0;
        for (; i + 8 <= values.Length; i += 8)
        {
            Vector256<float> v = Vector256.Create((ReadOnlySpan<float>)values.Slice(i, 8));
            TOp.Invoke(v).CopyTo(values.Slice(i, 8));
        }
        if (i < values.Length)
        {
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            values[i..].CopyTo(tail);
            TOp.Invoke(Vector256.Create((ReadOnlySpan<float>)tail)).CopyTo(tail);
            tail[..(values.Length - i)].CopyTo(values[i..]);
        }
    }

    /// <summary>
    /// erf as two minimax fits: erf(a) = a + a·p(a²) for |a| ≤ 0.9277 and 1 − exp(q(|a|)) with the
    /// sign of a beyond (the classic single-precision erff split; both branches within about 1 ulp).
    /// </summary>
    internal static Vector256<float> ErfVector(Vector256<float> a)
    {
        Vector256<float> t = Vector256.Abs(a);
        Vector256<float> s = a * a;

        Vector256<float> r = Fma(Vector256.Create(-1.72853470e-5f), t, Vector256.Create(3.83197126e-4f));
        Vector256<float> u = Fma(Vector256.Create(-3.88396438e-3f), t, Vector256.Create(2.42546219e-2f));
        r = Fma(r, s, u);
        r = Fma(r, t, Vector256.Create(-1.06777877e-1f));
        r = Fma(r, t, Vector256.Create(-6.34846687e-1f));
        r = Fma(r, t, Vector256.Create(-1.28717512e-1f));
        r = Fma(r, t, -t);
        Vector256<float> large = Vector256<float>.One - ExpNonPositive(r);
        large = Vector256.CopySign(large, a);

        Vector256<float> q = Vector256.Create(-5.96761703e-4f);
        q = Fma(q, s, Vector256.Create(4.99119423e-3f));
        q = Fma(q, s, Vector256.Create(-2.67681349e-2f));
        q = Fma(q, s, Vector256.Create(1.12819925e-1f));
        q = Fma(q, s, Vector256.Create(-3.76125336e-1f));
        q = Fma(q, s, Vector256.Create(1.28379166e-1f));
        Vector256<float> small = Fma(q, a, a);

        return Vector256.ConditionalSelect(Vector256.GreaterThan(t, Vector256.Create(0.927734375f)), large, small);
    }

    /// <summary>
    /// e^r for r ≤ 0 in single precision (the erf tail needs no more): r = n·ln2 + f with |f| ≤ ln2/2
    /// (ln2 split in two so that n·ln2_hi is exact), e^f by Cephes' degree-6 expf polynomial (about
    /// 1 ulp), times 2ⁿ built in the exponent field. r is clamped at −87 (e^−87 ≈ 1.6·10⁻³⁸, the
    /// smallest normal range), which only matters as 1 − e^r = 1 (erf's NaN lanes take the other branch).
    /// </summary>
    internal static Vector256<float> ExpNonPositive(Vector256<float> r)
    {
        r = Vector256.MaxNative(r, Vector256.Create(-87f));
        Vector256<float> n = Vector256.Round(r * Vector256.Create(1.44269504088896341f));
        Vector256<float> f = Fma(n, Vector256.Create(-0.693359375f), r);
        f = Fma(n, Vector256.Create(2.12194440e-4f), f);
        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = Fma(p, f, Vector256.Create(1.3981999507e-3f));
        p = Fma(p, f, Vector256.Create(8.3334519073e-3f));
        p = Fma(p, f, Vector256.Create(4.1665795894e-2f));
        p = Fma(p, f, Vector256.Create(1.6666665459e-1f));
        p = Fma(p, f, Vector256.Create(5.0000001201e-1f));
        p = Fma(p * f, f, f) + Vector256<float>.One;
        Vector256<int> bits = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;
        return p * bits.AsSingle();
    }

    /// <summary>log1p(x) = log(u)·x/(u − 1) with u = 1 + x (Goldberg): exact where u rounds to 1.</summary>
    internal static Vector256<float> Log1pVector(Vector256<float> x)
    {
        Vector256<float> u = Vector256<float>.One + x;
        Vector256<float> r = Vector256.Log(u) * (x / (u - Vector256<float>.One));
        r = Vector256.ConditionalSelect(Vector256.Equals(u, Vector256<float>.One), x, r);
        return Vector256.ConditionalSelect(Vector256.Equals(u, Vector256.Create(float.PositiveInfinity)), u, r);
    }

    private static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    private readonly struct ReluOp : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
    }

    private readonly struct ErfOp : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x) => ErfVector(x);
    }

    private readonly struct GeluOp : IVectorOp
    {
        // PyTorch: x * 0.5 * (1 + erf(x * M_SQRT1_2))
        public static Vector256<float> Invoke(Vector256<float> x) =>
            x * Vector256.Create(0.5f) * (Vector256<float>.One + ErfVector(x * Vector256.Create(Sqrt1Over2)));
    }

    private readonly struct GeluTanhOp : IVectorOp
    {
        // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), tanh(z) = sign(z)(1 − 2/(e^{2|z|} + 1))
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> z = Vector256.Create(Sqrt2OverPi) * Fma(Vector256.Create(0.044715f) * x * x, x, x);
            Vector256<float> e = Vector256.Exp(Vector256.Create(2f) * Vector256.Abs(z));
            Vector256<float> th = Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One);
            th = Vector256.CopySign(th, z);
            return Vector256.Create(0.5f) * x * (Vector256<float>.One + th);
        }
    }

    private readonly struct Log1pReluOp : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x) => Log1pVector(Vector256.Max(x, Vector256<float>.Zero));
    }

    private readonly struct Log1pLog1pReluOp : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x) => Log1pVector(Log1pVector(Vector256.Max(x, Vector256<float>.Zero)));
    }
}
