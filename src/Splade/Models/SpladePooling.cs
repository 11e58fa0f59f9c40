using System.Text.Json;
using Splade.Sparse;
using Splade.Tensors;

namespace Splade.Models;

/// <summary>How token scores are combined (pooling_strategy).</summary>
public enum PoolingStrategy
{
    /// <summary>Maximum over tokens.</summary>
    Max,
    /// <summary>Sum over tokens.</summary>
    Sum,
}

/// <summary>Activation applied to each logit before pooling (activation_function).</summary>
public enum SpladeActivation
{
    /// <summary>log(1 + relu(x)).</summary>
    Relu,
    /// <summary>log(1 + log(1 + relu(x))).</summary>
    Log1pRelu,
}

/// <summary>The settings of <c>1_SpladePooling/config.json</c>.</summary>
/// <param name="Strategy">pooling_strategy.</param>
/// <param name="Activation">activation_function.</param>
/// <param name="EmbeddingDimension">word_embedding_dimension / embedding_dimension, null when not given.</param>
public sealed record SpladePoolingConfig(PoolingStrategy Strategy, SpladeActivation Activation, int? EmbeddingDimension)
{
    /// <summary>max pooling with relu, the default of SpladePooling.</summary>
    public static SpladePoolingConfig Default { get; } = new(PoolingStrategy.Max, SpladeActivation.Relu, null);

    /// <summary>The element-wise transform f with w = pool_t f(logit_t).</summary>
    public ElementTransform Transform => Activation == SpladeActivation.Relu ? ElementTransform.Log1pRelu : ElementTransform.Log1pLog1pRelu;

    /// <summary>Reads a SpladePooling config.json (chunk_size is accepted and ignored: it only bounds memory).</summary>
    public static SpladePoolingConfig Load(string path)
    {
        if (!File.Exists(path)) return Default;
        using JsonDocument doc = ModelJson.Parse(path);
        JsonElement root = doc.RootElement;
        string strategy = ModelJson.String(root, "pooling_strategy") ?? "max";
        string activation = ModelJson.String(root, "activation_function") ?? "relu";
        int? dim = ModelJson.Int(root, "word_embedding_dimension") ?? ModelJson.Int(root, "embedding_dimension");
        return new SpladePoolingConfig(
            strategy switch
            {
                "max" => PoolingStrategy.Max,
                "sum" => PoolingStrategy.Sum,
                _ => throw new ModelLoadException(path, $"pooling_strategy '{strategy}' is not supported (max, sum)."),
            },
            activation switch
            {
                "relu" => SpladeActivation.Relu,
                "log1p_relu" => SpladeActivation.Log1pRelu,
                _ => throw new ModelLoadException(path, $"activation_function '{activation}' is not supported (relu, log1p_relu)."),
            },
            dim);
    }
}

/// <summary>
/// SPLADE pooling: w_j = pool over real tokens t of f(logit_tj), f = log1p∘relu (log1p once more for
/// log1p_relu), pool = max or sum; [CLS] and [SEP] take part, padding does not.
/// </summary>
public static class SpladePooling
{
    /// <summary>
    /// Pools every sequence of <paramref name="batch"/> straight out of the decoder GEMM into
    /// <paramref name="pooled"/> [sequences, vocab]. For max, the max is taken over raw logits and f
    /// applied once (f is monotone); for sum, f is applied per tile before summing.
    /// </summary>
    public static void PoolFused(ReadOnlySpan<float> transformed, TokenBatch batch, PackedMatrix decoder, SpladePoolingConfig config, Span<float> pooled, ComputePool pool) =>
        PoolFused(transformed, batch, new Lazy<PackedMatrix>(decoder), null, config, pooled, pool);

    /// <summary>
    /// As <see cref="PoolFused(ReadOnlySpan{float}, TokenBatch, PackedMatrix, SpladePoolingConfig, Span{float}, ComputePool)"/>;
    /// max pooling goes through <see cref="ScreenedColumnMax"/> when <paramref name="screened"/> is given
    /// (f(0) = 0 and f is monotone, so f(max(0, max_t logit)) = f(max_t logit) after the relu).
    /// </summary>
    public static void PoolFused(ReadOnlySpan<float> transformed, TokenBatch batch, Lazy<PackedMatrix> packed, QuantizedMatrix? screened, SpladePoolingConfig config, Span<float> pooled, ComputePool pool)
    {
        if (config.Strategy == PoolingStrategy.Max && screened is not null)
        {
            ScreenedColumnMax.Run(transformed, screened.K, batch.Starts, batch.Lengths, screened, pooled, pool);
            ApplyPerRow(config.Transform, pooled, batch.SequenceCount, screened.N, pool);
            return;
        }
        PackedMatrix decoder = packed.Value;
        int v = decoder.N, rows = batch.SequenceCount;
        if (config.Strategy == PoolingStrategy.Max)
        {
            Gemm.LinearColumnReduce(transformed, decoder.K, batch.Starts, batch.Lengths, decoder, ColumnReduction.Max, ElementTransform.None, pooled, pool);
            Span<float> all = pooled[..(rows * v)];
            // relu(−∞) = 0 for sequences without tokens.
            Activations.Apply(config.Transform, all);
        }
        else
        {
            Gemm.LinearColumnReduce(transformed, decoder.K, batch.Starts, batch.Lengths, decoder, ColumnReduction.Sum, config.Transform, pooled, pool);
        }
    }

    /// <summary>
    /// Applies f to rows [0, rows) of a [rows, cols] buffer, one job per row. f(0) = 0 exactly for
    /// both SPLADE activations and the pooled rows are mostly zero, so blocks of 64 zeros are
    /// skipped; f is element-wise, so the other blocks get the same bits as a full pass.
    /// </summary>
    internal static unsafe void ApplyPerRow(ElementTransform f, Span<float> buffer, int rows, int cols, ComputePool pool)
    {
        const int Block = 64;
        fixed (float* p = buffer)
        {
            nint a = (nint)p;
            pool.For(rows, r =>
            {
                float* row = (float*)a + (long)r * cols;
                for (int c0 = 0; c0 < cols; c0 += Block)
                {
                    int n = Math.Min(Block, cols - c0);
                    var block = new Span<float>(row + c0, n);
                    if (AnyNonZero(block)) Activations.Apply(f, block);
                }
            });
        }
    }

    /// <summary>Whether a value of <paramref name="block"/> is not 0 (NaN counts as not 0), eight at a time: IndexOfAnyExcept is a scalar loop for float.</summary>
    private static bool AnyNonZero(ReadOnlySpan<float> block)
    {
        int i = 0;
        for (; i + 8 <= block.Length; i += 8)
            if (!System.Runtime.Intrinsics.Vector256.EqualsAll(System.Runtime.Intrinsics.Vector256.Create(block.Slice(i, 8)), System.Runtime.Intrinsics.Vector256<float>.Zero)) return true;
        for (; i < block.Length; i++) if (block[i] != 0f) return true;
        return false;
    }

    /// <summary>Unfused twin: pools full logits [tokens, vocab] of one sequence, in double.</summary>
    public static float[] Reference(ReadOnlySpan<float> logits, int tokens, int vocab, SpladePoolingConfig config)
    {
        var result = new float[vocab];
        for (int j = 0; j < vocab; j++)
        {
            double acc = 0; // f ≥ 0, so 0 is neutral for both max and sum
            for (int t = 0; t < tokens; t++)
            {
                double f = ActivationsReference.Log1p(Math.Max(logits[t * vocab + j], 0.0));
                if (config.Activation == SpladeActivation.Log1pRelu) f = ActivationsReference.Log1p(f);
                acc = config.Strategy == PoolingStrategy.Max ? Math.Max(acc, f) : acc + f;
            }
            result[j] = (float)acc;
        }
        return result;
    }

    /// <summary>The non-zero entries of a pooled row as a sparse vector.</summary>
    public static SparseVector ToSparse(ReadOnlySpan<float> pooled) => SparseVector.FromDense(pooled);
}
