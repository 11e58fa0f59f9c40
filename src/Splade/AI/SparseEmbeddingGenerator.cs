using Microsoft.Extensions.AI;
using Splade.Sparse;

namespace Splade.AI;

/// <summary>
/// A <see cref="SparseEncoder"/> as Microsoft.Extensions.AI's
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>. Texts are documents unless the options
/// say <c>role = "query"</c> (see <see cref="SparseEmbeddingOptions"/>): each role has its prompt
/// and route, exactly as <see cref="SparseEncoder.EncodeQueries"/> and
/// <see cref="SparseEncoder.EncodeDocuments"/>. Encoding is CPU work on the calling thread.
/// </summary>
public sealed class SparseEmbeddingGenerator : IEmbeddingGenerator<string, SparseEmbedding>
{
    private readonly SparseEncoder _encoder;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly string _modelId;

    /// <summary>Wraps <paramref name="encoder"/>; <paramref name="modelId"/> (default: the encoder's path) is reported on every embedding.</summary>
    public SparseEmbeddingGenerator(SparseEncoder encoder, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoder = encoder;
        _modelId = modelId ?? encoder.ModelPath;
        _metadata = new EmbeddingGeneratorMetadata("splade", providerUri: null, _modelId, encoder.Dimension);
    }

    /// <summary>The encoder behind this generator.</summary>
    public SparseEncoder Encoder => _encoder;

    /// <summary>Encodes <paramref name="values"/> in order, in batches, as queries or documents per <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An option has an unknown role, a wrong type, or asks for a dimension other than the vocabulary size.</exception>
    public Task<GeneratedEmbeddings<SparseEmbedding>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToArray();
        var request = SparseEmbeddingOptions.Read(options, _encoder.Dimension);
        string? promptName = request.PromptName ?? (request.Role == SparseEmbeddingOptions.QueryRole ? _encoder.QueryPromptName : _encoder.DocumentPromptName);
        var vectors = _encoder.Encode(texts, new EncodeOptions
        {
            PromptName = promptName,
            Route = request.Role,
            MaxActiveDims = request.MaxActiveDims,
        }, cancellationToken);
        var result = new GeneratedEmbeddings<SparseEmbedding>(vectors.Count);
        var created = DateTimeOffset.UtcNow;
        foreach (SparseVector v in vectors)
            result.Add(new SparseEmbedding(v) { ModelId = options?.ModelId ?? _modelId, CreatedAt = created });
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return _metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(_encoder)) return _encoder;
        return null;
    }

    /// <summary>Does nothing: the encoder belongs to whoever created it.</summary>
    public void Dispose()
    {
    }
}
