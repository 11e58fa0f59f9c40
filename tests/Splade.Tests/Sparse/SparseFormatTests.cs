using System.Text;
using System.Text.Json;
using Splade.Sparse;

namespace Splade.Tests.Sparse;

public class SparseFormatTests
{
    private static readonly SparseVector Vector = new(10, [1, 4, 7], [0.5f, 2f, 1.25f]);
    private static readonly string[] Vocab = ["[PAD]", "a.b", "c", "d", "e%", "f", "g", "h", "i", "j"];

    private static string Write(SparseFormat format)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            SparseFormats.WriteFields(w, Vector, format, id => Vocab[id]);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    [Fact]
    public void Formats_write_the_documented_shapes()
    {
        Assert.Equal("""{"indices":[1,4,7],"values":[0.5,2,1.25]}""", Write(SparseFormat.Indices));
        Assert.Equal("""{"embedding":[{"index":1,"value":0.5},{"index":4,"value":2},{"index":7,"value":1.25}]}""", Write(SparseFormat.Tei));
        Assert.Equal("""{"vector":{"indices":[1,4,7],"values":[0.5,2,1.25]}}""", Write(SparseFormat.Qdrant));
        Assert.Equal("""{"tokens":{"e%":2,"h":1.25,"a.b":0.5}}""", Write(SparseFormat.Tokens));
        Assert.Equal("""{"vector":{"a__b":0.5,"e%":2,"h":1.25}}""", Write(SparseFormat.Elasticsearch));
    }

    [Fact]
    public void Feature_names_lose_their_dots()
    {
        Assert.Equal("__", SparseFormats.EscapeFeatureName("."));
        Assert.Equal("a__b__c", SparseFormats.EscapeFeatureName("a.b.c"));
        Assert.Equal("##ing", SparseFormats.EscapeFeatureName("##ing"));
    }

    [Fact]
    public void Unknown_format_name_is_rejected()
    {
        Assert.Equal(SparseFormat.Qdrant, SparseFormats.Parse("qdrant"));
        Assert.Throws<ArgumentException>(() => SparseFormats.Parse("parquet"));
    }
}
