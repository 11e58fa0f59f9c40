using Microsoft.Extensions.AI;

namespace Splade.AI;

/// <summary>Microsoft.Extensions.AI entry point for <see cref="SparseEncoder"/>.</summary>
public static class SparseEncoderEmbeddingGeneratorExtensions
{
    /// <summary>The encoder as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of sparse embeddings.</summary>
    public static IEmbeddingGenerator<string, SparseEmbedding> AsIEmbeddingGenerator(this SparseEncoder encoder, string? modelId = null) =>
        new SparseEmbeddingGenerator(encoder, modelId);
}
