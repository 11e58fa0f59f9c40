using Splade.Sparse;

namespace Splade.Evaluation;

/// <summary>
/// How closely two encodings of the same texts agree (e.g. float32 against a reduced precision):
/// Jaccard overlap |A ∩ B| / |A ∪ B| of the non-zero index sets (1 for two empty vectors), the
/// largest absolute difference of any weight (a weight missing from one side counts as 0), the
/// relative L2 difference ‖a − b‖ / ‖a‖, and the mean number of non-zeros on each side.
/// </summary>
/// <param name="Count">Pairs compared.</param>
/// <param name="MeanJaccard">Mean Jaccard overlap of the non-zero sets.</param>
/// <param name="MinJaccard">Smallest Jaccard overlap.</param>
/// <param name="MaxAbsDiff">Largest |a_j − b_j| over all pairs and dimensions.</param>
/// <param name="MeanRelativeL2">Mean ‖a − b‖ / ‖a‖ (pairs with a = 0 count 0 when b = 0, else 1).</param>
/// <param name="MeanActiveReference">Mean non-zeros of the reference vectors.</param>
/// <param name="MeanActiveOther">Mean non-zeros of the other vectors.</param>
public sealed record VectorAgreement(int Count, double MeanJaccard, double MinJaccard, double MaxAbsDiff, double MeanRelativeL2, double MeanActiveReference, double MeanActiveOther)
{
    /// <summary>Compares <paramref name="reference"/>[i] with <paramref name="other"/>[i] for every i.</summary>
    /// <exception cref="ArgumentException">The lists differ in length or a pair differs in dimension.</exception>
    public static VectorAgreement Compare(IReadOnlyList<SparseVector> reference, IReadOnlyList<SparseVector> other)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(other);
        if (reference.Count != other.Count) throw new ArgumentException($"{reference.Count} reference vectors but {other.Count} others.", nameof(other));
        if (reference.Count == 0) return new VectorAgreement(0, 1, 1, 0, 0, 0, 0);
        double sumJ = 0, minJ = 1, maxDiff = 0, sumRel = 0, activeA = 0, activeB = 0;
        for (int p = 0; p < reference.Count; p++)
        {
            SparseVector a = reference[p], b = other[p];
            if (a.Dimension != b.Dimension) throw new ArgumentException($"Pair {p}: dimensions {a.Dimension} and {b.Dimension} differ.", nameof(other));
            int i = 0, j = 0, both = 0;
            double diff2 = 0, norm2 = 0;
            ReadOnlySpan<int> ia = a.Indices, ib = b.Indices;
            ReadOnlySpan<float> va = a.Values, vb = b.Values;
            while (i < ia.Length || j < ib.Length)
            {
                double x, y;
                if (j >= ib.Length || (i < ia.Length && ia[i] < ib[j])) { x = va[i++]; y = 0; }
                else if (i >= ia.Length || ib[j] < ia[i]) { x = 0; y = vb[j++]; }
                else { x = va[i++]; y = vb[j++]; both++; }
                maxDiff = Math.Max(maxDiff, Math.Abs(x - y));
                diff2 += (x - y) * (x - y);
                norm2 += x * x;
            }
            int union = ia.Length + ib.Length - both;
            double jaccard = union == 0 ? 1 : (double)both / union;
            sumJ += jaccard;
            minJ = Math.Min(minJ, jaccard);
            sumRel += norm2 > 0 ? Math.Sqrt(diff2 / norm2) : diff2 > 0 ? 1 : 0;
            activeA += ia.Length;
            activeB += ib.Length;
        }
        int n = reference.Count;
        return new VectorAgreement(n, sumJ / n, minJ, maxDiff, sumRel / n, activeA / n, activeB / n);
    }
}
