using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Splade.AI;

/// <summary>
/// The SPLADE settings an <see cref="EmbeddingGenerationOptions"/> can carry in
/// <see cref="EmbeddingGenerationOptions.AdditionalProperties"/>: <c>role</c> (<c>"query"</c> or
/// <c>"document"</c>, default document), <c>prompt_name</c> (a prompt of the model's
/// Sentence Transformers config, instead of the role's) and <c>max_active_dims</c> (keep only the
/// largest weights). The names are those of the HTTP API.
/// </summary>
public static class SparseEmbeddingOptions
{
    /// <summary>Key of the role in <see cref="EmbeddingGenerationOptions.AdditionalProperties"/>.</summary>
    public const string RoleKey = "role";

    /// <summary>Key of the prompt name.</summary>
    public const string PromptNameKey = "prompt_name";

    /// <summary>Key of the largest number of non-zero entries kept per vector.</summary>
    public const string MaxActiveDimsKey = "max_active_dims";

    /// <summary>Role value: encode search queries (query prompt and query route).</summary>
    public const string QueryRole = "query";

    /// <summary>Role value: encode documents (document prompt and document route), the default.</summary>
    public const string DocumentRole = "document";

    /// <summary>New options that encode queries.</summary>
    public static EmbeddingGenerationOptions ForQueries() => WithRole(QueryRole);

    /// <summary>New options that encode documents.</summary>
    public static EmbeddingGenerationOptions ForDocuments() => WithRole(DocumentRole);

    private static EmbeddingGenerationOptions WithRole(string role) =>
        new() { AdditionalProperties = new AdditionalPropertiesDictionary { [RoleKey] = role } };

    internal readonly record struct Request(string Role, string? PromptName, int? MaxActiveDims);

    /// <summary>Reads and checks the SPLADE settings of <paramref name="options"/>.</summary>
    internal static Request Read(EmbeddingGenerationOptions? options, int dimension)
    {
        if (options is null) return new Request(DocumentRole, null, null);
        if (options.Dimensions is int d && d != dimension)
            throw new ArgumentException($"EmbeddingGenerationOptions.Dimensions is {d}, but a sparse embedding has the vocabulary size {dimension}; " +
                $"use \"{MaxActiveDimsKey}\" to limit its non-zero entries.", nameof(options));
        var props = options.AdditionalProperties;
        string role = ReadString(props, RoleKey) ?? DocumentRole;
        if (role is not (QueryRole or DocumentRole))
            throw new ArgumentException($"AdditionalProperties[\"{RoleKey}\"] must be \"{QueryRole}\" or \"{DocumentRole}\"; got \"{role}\".", nameof(options));
        int? maxActive = ReadInt(props, MaxActiveDimsKey);
        if (maxActive is < 1)
            throw new ArgumentException($"AdditionalProperties[\"{MaxActiveDimsKey}\"] must be at least 1; got {maxActive}.", nameof(options));
        return new Request(role, ReadString(props, PromptNameKey), maxActive);
    }

    private static string? ReadString(AdditionalPropertiesDictionary? props, string key)
    {
        if (props is null || !props.TryGetValue(key, out object? value) || value is null) return null;
        return value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => throw new ArgumentException($"AdditionalProperties[\"{key}\"] must be a string; got {value.GetType().Name}.", "options"),
        };
    }

    private static int? ReadInt(AdditionalPropertiesDictionary? props, string key)
    {
        if (props is null || !props.TryGetValue(key, out object? value) || value is null) return null;
        return value switch
        {
            int i => i,
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt32(out int j) => j,
            _ => throw new ArgumentException($"AdditionalProperties[\"{key}\"] must be an integer; got {value}.", "options"),
        };
    }
}
