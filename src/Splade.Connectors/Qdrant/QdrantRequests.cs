using System.Security.Cryptography;
using System.Text;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors.Qdrant;

/// <summary>
/// Qdrant REST bodies for a collection with one named sparse vector
/// (<c>{"indices":[...],"values":[...]}</c>, indices unique; SPLADE's are ascending).
/// Qdrant point ids must be unsigned integers or UUIDs, so a document id becomes the name-based
/// UUID <see cref="PointId"/> and the original id travels in the payload as <c>doc_id</c>.
/// </summary>
public sealed class QdrantRequests
{
    /// <summary>Payload key holding the original document id.</summary>
    public const string DocIdKey = "doc_id";

    /// <summary>Creates the bodies for <paramref name="collection"/> with sparse vector <paramref name="vectorName"/>.</summary>
    public QdrantRequests(string collection, string vectorName = "splade", string textKey = "text")
    {
        ArgumentException.ThrowIfNullOrEmpty(collection);
        ArgumentException.ThrowIfNullOrEmpty(vectorName);
        Collection = collection;
        VectorName = vectorName;
        TextKey = textKey;
    }

    /// <summary>Collection name.</summary>
    public string Collection { get; }

    /// <summary>Name of the sparse vector in each point.</summary>
    public string VectorName { get; }

    /// <summary>Payload key of the text.</summary>
    public string TextKey { get; }

    /// <summary>Keep the sparse index on disk (<c>index.on_disk</c>) instead of in memory.</summary>
    public bool OnDisk { get; init; }

    /// <summary>
    /// The point id of document <paramref name="documentId"/>: the RFC 4122 version-5 UUID of the id
    /// in the URL namespace, i.e. Python's <c>uuid.uuid5(uuid.NAMESPACE_URL, id)</c>.
    /// </summary>
    public static string PointId(string documentId)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        // NAMESPACE_URL = 6ba7b811-9dad-11d1-80b4-00c04fd430c8, in network byte order.
        byte[] ns = [0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
        byte[] name = Encoding.UTF8.GetBytes(documentId);
        byte[] input = new byte[ns.Length + name.Length];
        ns.CopyTo(input, 0);
        name.CopyTo(input, ns.Length);
        byte[] hash = SHA1.HashData(input);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    /// <summary>Body of <c>PUT /collections/{collection}</c>.</summary>
    public string CreateCollectionBody() => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("sparse_vectors");
        w.WriteStartObject(VectorName);
        w.WriteStartObject("index");
        w.WriteBoolean("on_disk", OnDisk);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>Body of <c>PUT /collections/{collection}/points?wait=true</c> (insert or replace).</summary>
    public string UpsertPointsBody(IEnumerable<IndexedDocument> documents) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("points");
        foreach (var d in documents)
        {
            w.WriteStartObject();
            w.WriteString("id", PointId(d.Id));
            w.WriteStartObject("vector");
            w.WritePropertyName(VectorName);
            SparseJson.WriteIndicesValues(w, d.Vector);
            w.WriteEndObject();
            w.WriteStartObject("payload");
            w.WriteString(DocIdKey, d.Id);
            if (d.Text is not null) w.WriteString(TextKey, d.Text);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Body of <c>POST /collections/{collection}/points/query</c>: top <paramref name="limit"/> by dot product.</summary>
    public string QueryBody(SparseVector query, int limit) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("query");
        SparseJson.WriteIndicesValues(w, query);
        w.WriteString("using", VectorName);
        w.WriteNumber("limit", limit);
        w.WriteBoolean("with_payload", true);
        w.WriteEndObject();
    });

    /// <summary>Body of <c>POST /collections/{collection}/points/delete?wait=true</c>.</summary>
    public string DeletePointsBody(IEnumerable<string> documentIds) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("points");
        foreach (string id in documentIds) w.WriteStringValue(PointId(id));
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Body of <c>POST /collections/{collection}/points/count</c> (exact count).</summary>
    public static string CountBody() => "{\"exact\":true}";
}
