namespace Splade.Training.Kernels;

/// <summary>
/// Element functions of SPLADE pooling and their derivatives. The pooling activation <c>relu</c> is
/// log(1 + relu(x)); <c>log1p_relu</c> applies log1p once more: log(1 + log(1 + relu(x))).
/// relu'(0) = 0 as in PyTorch.
/// </summary>
internal static class SpladeActivation
{
    public static double Relu(double x) => x > 0 ? x : 0;
    public static double ReluDerivative(double x) => x > 0 ? 1 : 0;
    /// <summary>log(1 + x) without cancellation for small x (Goldberg: log(u)·x/(u − 1) with u = 1 + x).</summary>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        return u == 1.0 ? x : Math.Log(u) * x / (u - 1.0);
    }
    public static double Log1pDerivative(double x) => 1.0 / (1.0 + x);

    /// <summary>The pooling activation named in the pooling config.</summary>
    public static double Apply(double logit, bool doubleLog)
    {
        double y = Log1p(Relu(logit));
        return doubleLog ? Log1p(y) : y;
    }

    /// <summary>Its derivative by the chain rule.</summary>
    public static double Derivative(double logit, bool doubleLog)
    {
        if (logit <= 0) return 0;
        double d = Log1pDerivative(logit);
        return doubleLog ? d * Log1pDerivative(Log1p(logit)) : d;
    }
}
