using System.Text;
using System.Text.Json;
using Splade.Search;

namespace Splade.Connectors;

/// <summary>
/// The <c>_bulk</c> NDJSON format shared by Elasticsearch and OpenSearch: for each document an
/// action line <c>{"index":{"_index":...,"_id":...}}</c> then its source line, every line ended by
/// <c>\n</c> (the final newline is required).
/// </summary>
public static class BulkNdjson
{
    /// <summary>Content type of a <c>_bulk</c> body.</summary>
    public const string ContentType = "application/x-ndjson";

    /// <summary>Writes index actions for <paramref name="documents"/>, each source produced by <paramref name="source"/>.</summary>
    public static string Index(string index, IEnumerable<IndexedDocument> documents, Func<IndexedDocument, string> source)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var body = new StringBuilder();
        foreach (var document in documents)
        {
            body.Append(SparseJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("index");
                w.WriteString("_index", index);
                w.WriteString("_id", document.Id);
                w.WriteEndObject();
                w.WriteEndObject();
            })).Append('\n');
            body.Append(source(document)).Append('\n');
        }
        return body.ToString();
    }

    /// <summary>Writes delete actions for <paramref name="ids"/>.</summary>
    public static string Delete(string index, IEnumerable<string> ids)
    {
        var body = new StringBuilder();
        foreach (string id in ids)
        {
            body.Append(SparseJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteStartObject("delete");
                w.WriteString("_index", index);
                w.WriteString("_id", id);
                w.WriteEndObject();
                w.WriteEndObject();
            })).Append('\n');
        }
        return body.ToString();
    }

    /// <summary>Writes <c>"_source": [text field]</c> so hits carry the text but not the vector.</summary>
    internal static void WriteSourceFilter(Utf8JsonWriter writer, string textField)
    {
        writer.WriteStartArray("_source");
        writer.WriteStringValue(textField);
        writer.WriteEndArray();
    }
}
