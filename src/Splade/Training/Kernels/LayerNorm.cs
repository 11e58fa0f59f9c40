namespace Splade.Training.Kernels;

/// <summary>
/// LayerNorm over the last dimension: y = (x − mean)·rstd·γ + β with rstd = 1/√(biased var + eps).
/// Statistics in double. Backward (with x̂ = (x − mean)·rstd, g = dy·γ):
/// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); dγ += Σ_rows dy·x̂; dβ += Σ_rows dy.
/// </summary>
internal static class LayerNorm
{
    /// <summary>x, y: [rows, h]; mean, rstd: [rows] (saved for backward).</summary>
    public static void Forward(float[] x, float[] gamma, float[] beta, float eps, int rows, int h, float[] y, float[] mean, float[] rstd)
    {
        TrainingParallel.For((rows + 63) / 64, ch =>
        {
            int r1 = Math.Min(rows, ch * 64 + 64);
            for (int r = ch * 64; r < r1; r++)
            {
                var xr = x.AsSpan(r * h, h);
                double m = 0;
                for (int i = 0; i < h; i++) m += xr[i];
                m /= h;
                double v = 0;
                for (int i = 0; i < h; i++) { double d = xr[i] - m; v += d * d; }
                v /= h;
                double rs = 1.0 / Math.Sqrt(v + eps);
                mean[r] = (float)m;
                rstd[r] = (float)rs;
                var yr = y.AsSpan(r * h, h);
                for (int i = 0; i < h; i++) yr[i] = (float)((xr[i] - m) * rs) * gamma[i] + beta[i];
            }
        });
    }

    /// <summary>dx (overwritten, or added to when <paramref name="accumulateDx"/>), dγ and dβ accumulated.</summary>
    public static void Backward(float[] x, float[] mean, float[] rstd, float[] gamma, float[] dy, int rows, int h,
        float[] dx, bool accumulateDx, float[] dGamma, float[] dBeta)
    {
        TrainingParallel.For((rows + 63) / 64, ch =>
        {
            int r1 = Math.Min(rows, ch * 64 + 64);
            for (int r = ch * 64; r < r1; r++)
            {
                var xr = x.AsSpan(r * h, h);
                var dyr = dy.AsSpan(r * h, h);
                double m = mean[r], rs = rstd[r];
                double sg = 0, sgx = 0;
                for (int i = 0; i < h; i++)
                {
                    double xh = (xr[i] - m) * rs, g = dyr[i] * (double)gamma[i];
                    sg += g;
                    sgx += g * xh;
                }
                sg /= h;
                sgx /= h;
                var dxr = dx.AsSpan(r * h, h);
                for (int i = 0; i < h; i++)
                {
                    double xh = (xr[i] - m) * rs, g = dyr[i] * (double)gamma[i];
                    float v = (float)(rs * (g - sg - xh * sgx));
                    dxr[i] = accumulateDx ? dxr[i] + v : v;
                }
            }
        });
        // Parameter gradients: a reduction over rows, done per column in fixed row order.
        var dg = new double[h];
        var db = new double[h];
        for (int r = 0; r < rows; r++)
        {
            double m = mean[r], rs = rstd[r];
            int o = r * h;
            for (int i = 0; i < h; i++)
            {
                double d = dy[o + i];
                dg[i] += d * ((x[o + i] - m) * rs);
                db[i] += d;
            }
        }
        for (int i = 0; i < h; i++)
        {
            dGamma[i] += (float)dg[i];
            dBeta[i] += (float)db[i];
        }
    }
}
