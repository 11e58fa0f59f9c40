using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Splade.Sparse;

namespace Splade.Connectors;

/// <summary>Compact JSON writing shared by the request builders.</summary>
internal static class SparseJson
{
    /// <summary>
    /// Compact output; non-ASCII tokens are written as themselves rather than \uXXXX escapes
    /// (quotes, backslashes and control characters are still escaped, so the JSON stays valid).
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    /// <summary>Writes one JSON value with <paramref name="write"/> and returns it as a string.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions)) write(writer);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary><c>{"key": weight, ...}</c> keyed by token strings.</summary>
    public static void WriteTokenObject(Utf8JsonWriter writer, SparseVector vector, TokenKeys keys, string owner)
    {
        writer.WriteStartObject();
        foreach (var (key, weight) in keys.Pairs(vector, owner)) writer.WriteNumber(key, weight);
        writer.WriteEndObject();
    }

    /// <summary><c>{"id": weight, ...}</c> keyed by the decimal token id (OpenSearch <c>sparse_vector</c>).</summary>
    public static void WriteIdObject(Utf8JsonWriter writer, SparseVector vector, string owner)
    {
        writer.WriteStartObject();
        for (int i = 0; i < vector.Count; i++)
        {
            float weight = vector.Values[i];
            if (!(weight > 0f))
                throw new ArgumentException($"{owner}: weight of token id {vector.Indices[i]} is {weight}; sparse_vector needs strictly positive weights.");
            writer.WriteNumber(vector.Indices[i].ToString(CultureInfo.InvariantCulture), weight);
        }
        writer.WriteEndObject();
    }

    /// <summary><c>{"indices": [...], "values": [...]}</c> (Qdrant; indices ascending and unique).</summary>
    public static void WriteIndicesValues(Utf8JsonWriter writer, SparseVector vector)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("indices");
        foreach (int i in vector.Indices) writer.WriteNumberValue(i);
        writer.WriteEndArray();
        writer.WriteStartArray("values");
        foreach (float v in vector.Values) writer.WriteNumberValue(v);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
