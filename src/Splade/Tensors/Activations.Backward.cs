using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>
/// Derivatives of the <see cref="Activations"/> maps, for training: <see cref="Backward"/> multiplies an
/// incoming gradient by f'(x), element by element, through the same Vector256 code for every element.
/// GELU: Φ(x) + x·φ(x); tanh GELU: ½(1 + th) + ½x(1 − th²)·√(2/π)(1 + 3·0.044715x²); ReLU: 1 for x &gt; 0,
/// else 0 (PyTorch's choice at 0).
/// </summary>
public static partial class Activations
{
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>dy[i] ← dy[i]·f'(x[i]) for f = <paramref name="transform"/> (None, Relu, Gelu or GeluTanh).</summary>
    public static void Backward(ElementTransform transform, ReadOnlySpan<float> x, Span<float> dy)
    {
        if (x.Length != dy.Length) throw new ArgumentException($"x has {x.Length} values, dy {dy.Length}.", nameof(dy));
        switch (transform)
        {
            case ElementTransform.None: return;
            case ElementTransform.Relu: MapBackward<ReluDerivative>(x, dy); return;
            case ElementTransform.Gelu: MapBackward<GeluDerivative>(x, dy); return;
            case ElementTransform.GeluTanh: MapBackward<GeluTanhDerivative>(x, dy); return;
            default: throw new ArgumentOutOfRangeException(nameof(transform), transform, "Backward is defined for None, Relu, Gelu and GeluTanh.");
        }
    }

    /// <summary>
    /// In place values[i] ← f(values[i]) and derivative[i] = f'(x[i]) in one pass (GELU shares its erf), for
    /// f = Relu, Gelu or GeluTanh: the same values as <see cref="Apply"/> and the same derivative as
    /// <see cref="Backward"/> (which then is one multiply, <see cref="MultiplyBy"/>).
    /// </summary>
    public static void ApplyWithDerivative(ElementTransform transform, Span<float> values, Span<float> derivative)
    {
        if (values.Length != derivative.Length) throw new ArgumentException($"values has {values.Length} elements, derivative {derivative.Length}.", nameof(derivative));
        switch (transform)
        {
            case ElementTransform.Relu: MapWithDerivative<ReluOp, ReluDerivative>(values, derivative); return;
            case ElementTransform.Gelu: MapGeluWithDerivative(values, derivative); return;
            case ElementTransform.GeluTanh: MapWithDerivative<GeluTanhOp, GeluTanhDerivative>(values, derivative); return;
            default: throw new ArgumentOutOfRangeException(nameof(transform), transform, "ApplyWithDerivative is defined for Relu, Gelu and GeluTanh.");
        }
    }

    /// <summary>dy[i] ← dy[i]·derivative[i] (the backward of an element-wise map whose derivative was kept).</summary>
    public static void MultiplyBy(ReadOnlySpan<float> derivative, Span<float> dy)
    {
        if (derivative.Length != dy.Length) throw new ArgumentException($"derivative has {derivative.Length} values, dy {dy.Length}.", nameof(dy));
        System.Numerics.Tensors.TensorPrimitives.Multiply(dy, derivative, dy);
    }

    private static void MapWithDerivative<TOp, TDerivative>(Span<float> values, Span<float> derivative) where TOp : IVectorOp where TDerivative : IVectorOp
    {
        int i = 0;
        for (; i + 8 <= values.Length; i += 8)
        {
            Vector256<float> x = Vector256.Create((ReadOnlySpan<float>)values.Slice(i, 8));
            TDerivative.Invoke(x).CopyTo(derivative.Slice(i, 8));
            TOp.Invoke(x).CopyTo(values.Slice(i, 8));
        }
        if (i < values.Length)
        {
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            values[i..].CopyTo(tail);
            Vector256<float> x = Vector256.Create((ReadOnlySpan<float>)tail);
            TDerivative.Invoke(x).CopyTo(tail);
            tail[..(values.Length - i)].CopyTo(derivative[i..]);
            TOp.Invoke(x).CopyTo(tail);
            tail[..(values.Length - i)].CopyTo(values[i..]);
        }
    }

    /// <summary>GELU and its derivative from one erf: the same operations as <c>GeluOp</c> and <c>GeluDerivative</c>.</summary>
    private static void MapGeluWithDerivative(Span<float> values, Span<float> derivative)
    {
        int i = 0;
        for (; i + 8 <= values.Length; i += 8)
        {
            Vector256<float> x = Vector256.Create((ReadOnlySpan<float>)values.Slice(i, 8));
            GeluPair(x, out Vector256<float> y, out Vector256<float> d);
            d.CopyTo(derivative.Slice(i, 8));
            y.CopyTo(values.Slice(i, 8));
        }
        if (i < values.Length)
        {
            Span<float> tail = stackalloc float[8];
            tail.Clear();
            values[i..].CopyTo(tail);
            GeluPair(Vector256.Create((ReadOnlySpan<float>)tail), out Vector256<float> y, out Vector256<float> d);
            d.CopyTo(tail);
            tail[..(values.Length - i)].CopyTo(derivative[i..]);
            y.CopyTo(tail);
            tail[..(values.Length - i)].CopyTo(values[i..]);
        }
    }

    private static void GeluPair(Vector256<float> x, out Vector256<float> y, out Vector256<float> d)
    {
        Vector256<float> onePlusErf = Vector256<float>.One + ErfVector(x * Vector256.Create(Sqrt1Over2));
        y = x * Vector256.Create(0.5f) * onePlusErf;
        Vector256<float> cdf = Vector256.Create(0.5f) * onePlusErf;
        Vector256<float> pdf = ExpNonPositive(Vector256.Create(-0.5f) * x * x) * Vector256.Create(InvSqrt2Pi);
        d = Fma(x, pdf, cdf);
    }

    private static void MapBackward<TOp>(ReadOnlySpan<float> x, Span<float> dy) where TOp : IVectorOp
    {
        int i = 0;
        for (; i + 8 <= x.Length; i += 8)
        {
            Vector256<float> d = TOp.Invoke(Vector256.Create(x.Slice(i, 8)));
            (Vector256.Create((ReadOnlySpan<float>)dy.Slice(i, 8)) * d).CopyTo(dy.Slice(i, 8));
        }
        if (i < x.Length)
        {
            Span<float> tx = stackalloc float[8], tg = stackalloc float[8];
            tx.Clear(); tg.Clear();
            x[i..].CopyTo(tx);
            dy[i..].CopyTo(tg);
            (Vector256.Create((ReadOnlySpan<float>)tg) * TOp.Invoke(Vector256.Create((ReadOnlySpan<float>)tx))).CopyTo(tg);
            tg[..(x.Length - i)].CopyTo(dy[i..]);
        }
    }

    private readonly struct ReluDerivative : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One, Vector256<float>.Zero);
    }

    private readonly struct GeluDerivative : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> cdf = Vector256.Create(0.5f) * (Vector256<float>.One + ErfVector(x * Vector256.Create(Sqrt1Over2)));
            Vector256<float> pdf = ExpNonPositive(Vector256.Create(-0.5f) * x * x) * Vector256.Create(InvSqrt2Pi);
            return Fma(x, pdf, cdf);
        }
    }

    private readonly struct GeluTanhDerivative : IVectorOp
    {
        public static Vector256<float> Invoke(Vector256<float> x)
        {
            Vector256<float> x2 = x * x;
            Vector256<float> z = Vector256.Create(Sqrt2OverPi) * Fma(Vector256.Create(0.044715f) * x2, x, x);
            Vector256<float> e = Vector256.Exp(Vector256.Create(2f) * Vector256.Abs(z));
            Vector256<float> th = Vector256.CopySign(Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One), z);
            Vector256<float> dz = Vector256.Create(Sqrt2OverPi) * Fma(Vector256.Create(3 * 0.044715f), x2, Vector256<float>.One);
            Vector256<float> half = Vector256.Create(0.5f);
            return Fma(half * x * (Vector256<float>.One - th * th), dz, half * (Vector256<float>.One + th));
        }
    }
}
