namespace Splade.Tensors;

/// <summary>
/// BERT's embedding sum for training, e[t] = (word[id_t] + position[p_t]) + type[y_t] (the order of
/// <c>Models.BertEmbeddings</c>), and its backward, a scatter-add of de[t] into the three tables.
/// The backward splits the hidden columns over jobs and adds tokens in order, so repeated ids
/// accumulate the same way for any thread count.
/// </summary>
public static class Embeddings
{
    private const int ColumnsPerJob = 32;

    /// <summary>e [tokens, h] from the three tables [*, h].</summary>
    public static void Forward(ReadOnlySpan<int> ids, ReadOnlySpan<int> positions, ReadOnlySpan<int> types,
        ReadOnlySpan<float> word, ReadOnlySpan<float> position, ReadOnlySpan<float> type, int h, Span<float> e)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            Span<float> row = e.Slice(t * h, h);
            System.Numerics.Tensors.TensorPrimitives.Add(word.Slice(ids[t] * h, h), position.Slice(positions[t] * h, h), row);
            System.Numerics.Tensors.TensorPrimitives.Add(row, type.Slice(types[t] * h, h), row);
        }
    }

    /// <summary>dWord, dPosition, dType += the rows of de [tokens, h] at each token's ids.</summary>
    public static unsafe void Backward(int[] ids, int[] positions, int[] types, ReadOnlySpan<float> de, int h,
        Span<float> dWord, Span<float> dPosition, Span<float> dType, ComputePool pool)
    {
        if (de.Length < ids.Length * h) throw new ArgumentException($"de is smaller than [{ids.Length}, {h}].", nameof(de));
        fixed (float* pde = de, pw = dWord, pp = dPosition, pt = dType)
        {
            nint ade = (nint)pde, aw = (nint)pw, ap = (nint)pp, at = (nint)pt;
            pool.For((h + ColumnsPerJob - 1) / ColumnsPerJob, job =>
            {
                int c0 = job * ColumnsPerJob, c1 = Math.Min(h, c0 + ColumnsPerJob);
                for (int t = 0; t < ids.Length; t++)
                {
                    float* g = (float*)ade + (long)t * h;
                    float* w = (float*)aw + (long)ids[t] * h, p = (float*)ap + (long)positions[t] * h, y = (float*)at + (long)types[t] * h;
                    for (int c = c0; c < c1; c++) { w[c] += g[c]; p[c] += g[c]; y[c] += g[c]; }
                }
            });
        }
    }

    /// <summary>Plain twin of <see cref="Backward"/>: one token after another.</summary>
    public static void BackwardReference(int[] ids, int[] positions, int[] types, ReadOnlySpan<float> de, int h,
        Span<float> dWord, Span<float> dPosition, Span<float> dType)
    {
        for (int t = 0; t < ids.Length; t++)
            for (int c = 0; c < h; c++)
            {
                float g = de[t * h + c];
                dWord[ids[t] * h + c] += g;
                dPosition[positions[t] * h + c] += g;
                dType[types[t] * h + c] += g;
            }
    }
}
