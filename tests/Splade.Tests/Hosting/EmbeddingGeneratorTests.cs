using Microsoft.Extensions.AI;
using Splade.AI;
using Splade.Tests.Server;

namespace Splade.Tests.Hosting;

/// <summary>The encoder behind Microsoft.Extensions.AI's IEmbeddingGenerator.</summary>
public sealed class EmbeddingGeneratorTests
{
    private static readonly string[] Texts = ["where is oestrogen produced", "The quick brown fox jumps over the lazy dog.", "a"];

    [Fact]
    public async Task Roles_give_exactly_the_encoders_query_and_document_vectors()
    {
        var enc = ServerHarness.Encoder;
        IEmbeddingGenerator<string, SparseEmbedding> generator = enc.AsIEmbeddingGenerator("tiny");

        var docs = await generator.GenerateAsync(Texts);
        var docsExplicit = await generator.GenerateAsync(Texts, SparseEmbeddingOptions.ForDocuments());
        var queries = await generator.GenerateAsync(Texts, SparseEmbeddingOptions.ForQueries());
        var expectedDocs = enc.EncodeDocuments(Texts);
        var expectedQueries = enc.EncodeQueries(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            ServerHarness.AssertBitIdentical(expectedDocs[i], docs[i].Vector);
            ServerHarness.AssertBitIdentical(expectedDocs[i], docsExplicit[i].Vector);
            ServerHarness.AssertBitIdentical(expectedQueries[i], queries[i].Vector);
            Assert.Equal(expectedDocs[i].Indices.ToArray(), docs[i].Indices.ToArray());
            Assert.Equal(expectedDocs[i].Values.ToArray(), docs[i].Values.ToArray());
            Assert.Equal(enc.Dimension, docs[i].Dimensions);
            Assert.Equal("tiny", docs[i].ModelId);
        }

        // The same call through the abstraction's single-value extension.
        Embedding one = await generator.GenerateAsync(Texts[0], SparseEmbeddingOptions.ForQueries());
        ServerHarness.AssertBitIdentical(expectedQueries[0], Assert.IsType<SparseEmbedding>(one).Vector);

        var meta = generator.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal("splade", meta.ProviderName);
        Assert.Equal(enc.Dimension, meta.DefaultModelDimensions);
        Assert.Same(enc, generator.GetService<SparseEncoder>());
    }

    [Fact]
    public async Task Max_active_dims_keeps_the_largest_weights()
    {
        var enc = ServerHarness.Encoder;
        var generator = enc.AsIEmbeddingGenerator();
        var options = SparseEmbeddingOptions.ForDocuments();
        options.AdditionalProperties![SparseEmbeddingOptions.MaxActiveDimsKey] = 3;
        var got = await generator.GenerateAsync([Texts[1]], options);
        ServerHarness.AssertBitIdentical(enc.EncodeDocument(Texts[1]).TopK(3), got[0].Vector);
        Assert.Equal(3, got[0].Count);
    }

    [Fact]
    public async Task Bad_options_are_refused_with_the_field_named()
    {
        var generator = ServerHarness.Encoder.AsIEmbeddingGenerator();
        var role = new EmbeddingGenerationOptions { AdditionalProperties = new() { [SparseEmbeddingOptions.RoleKey] = "passage" } };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(Texts, role));
        Assert.Contains("\"role\"", e.Message);
        Assert.Contains("passage", e.Message);

        var dims = new EmbeddingGenerationOptions { Dimensions = 128 };
        e = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(Texts, dims));
        Assert.Contains("128", e.Message);

        var wrongType = new EmbeddingGenerationOptions { AdditionalProperties = new() { [SparseEmbeddingOptions.MaxActiveDimsKey] = "many" } };
        e = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(Texts, wrongType));
        Assert.Contains("max_active_dims", e.Message);
    }
}
