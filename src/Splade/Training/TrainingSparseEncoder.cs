using Splade.Sparse;
using Splade.Training.Model;

namespace Splade.Training;

/// <summary>
/// Encodes texts with the weights being trained (dropout off), so an evaluator written against
/// <see cref="ISparseTextEncoder"/> can score the model between epochs. Texts are batched by length.
/// </summary>
public sealed class TrainingSparseEncoder(BertMlmSplade model, Func<string, int[]> tokenize, int batchSize = 32) : ISparseTextEncoder
{
    /// <inheritdoc/>
    public int Dimension => model.Parameters.Config.VocabSize;

    /// <inheritdoc/>
    public IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Encode(texts, cancellationToken);

    /// <inheritdoc/>
    public IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Encode(texts, cancellationToken);

    private IReadOnlyList<SparseVector> Encode(IReadOnlyList<string> texts, CancellationToken ct)
    {
        bool wasTraining = model.Training;
        model.Training = false;
        try
        {
            var ids = texts.Select(tokenize).ToArray();
            var order = Enumerable.Range(0, texts.Count).OrderByDescending(i => ids[i].Length).ToArray();
            var result = new SparseVector[texts.Count];
            int V = Dimension;
            for (int b = 0; b < order.Length; b += batchSize)
            {
                ct.ThrowIfCancellationRequested();
                var idx = order.Skip(b).Take(batchSize).ToArray();
                var pooled = model.Forward(idx.Select(i => ids[i]).ToList());
                for (int k = 0; k < idx.Length; k++) result[idx[k]] = SparseVector.FromDense(pooled.AsSpan(k * V, V));
            }
            return result;
        }
        finally
        {
            model.Training = wasTraining;
        }
    }
}
