using System.Text.Json;

namespace Splade.Tests.Compatibility;

/// <summary>One text encoded by the Python library: its role, token ids (when recorded) and sparse vector.</summary>
internal sealed record ReferenceVector(string Text, string Role, int[]? Ids, int[] Indices, float[] Values);

/// <summary>
/// Outputs of sentence-transformers itself, in <c>testdata/python-reference</c> (written by
/// scripts/python-reference/generate.py; versions in its README and in versions.json).
/// </summary>
internal static class PythonReference
{
    public static string Dir => TestData.Path_("python-reference");

    public static string File(string name) => Path.Combine(Dir, name);

    /// <summary>Reads <c>NAME.vectors.json</c>; <paramref name="key"/> picks the list (texts, or texts_fp32).</summary>
    public static ReferenceVector[] Vectors(string name, string key = "texts")
    {
        using JsonDocument doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(File(name + ".vectors.json")));
        return doc.RootElement.GetProperty(key).EnumerateArray().Select(t => new ReferenceVector(
            t.GetProperty("text").GetString()!,
            t.GetProperty("role").GetString()!,
            t.TryGetProperty("ids", out JsonElement ids) ? ids.EnumerateArray().Select(x => x.GetInt32()).ToArray() : null,
            t.GetProperty("indices").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            t.GetProperty("values").EnumerateArray().Select(x => x.GetSingle()).ToArray())).ToArray();
    }

    /// <summary>Reads a JSON file of the folder.</summary>
    public static JsonDocument Json(string name) => JsonDocument.Parse(System.IO.File.ReadAllBytes(File(name)));

    /// <summary>
    /// Encodes every reference text with <paramref name="encoder"/> (queries with encode_query, documents with
    /// encode_document, each role in one batch) and compares: token ids equal, non-zero sets equal, and the
    /// largest absolute value difference, which is returned.
    /// </summary>
    public static (double MaxAbsDiff, int IdsCompared) Compare(SparseEncoder encoder, IReadOnlyList<ReferenceVector> expected)
    {
        var queries = expected.Where(t => t.Role == "query").ToArray();
        var documents = expected.Where(t => t.Role == "document").ToArray();
        var q = encoder.EncodeQueries(queries.Select(t => t.Text).ToArray());
        var d = encoder.EncodeDocuments(documents.Select(t => t.Text).ToArray());
        double max = 0;
        int ids = 0;
        for (int role = 0; role < 2; role++)
        {
            var refs = role == 0 ? queries : documents;
            var ours = role == 0 ? q : d;
            for (int i = 0; i < refs.Length; i++)
            {
                if (refs[i].Ids is { } expectedIds)
                {
                    Assert.Equal(expectedIds, encoder.TokenIds(refs[i].Text, refs[i].Role));
                    ids++;
                }
                Assert.True(refs[i].Indices.SequenceEqual(ours[i].Indices.ToArray()),
                    $"non-zero set differs for the {refs[i].Role} '{Short(refs[i].Text)}': {refs[i].Indices.Length} vs {ours[i].Count} entries");
                for (int k = 0; k < ours[i].Count; k++) max = Math.Max(max, Math.Abs(ours[i].Values[k] - refs[i].Values[k]));
            }
        }
        return (max, ids);
    }

    private static string Short(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
