using System.Text.Json;
using Splade.Tensors;

namespace Splade.Models;

/// <summary>The transformers <c>BertConfig</c> (config.json): every field the network needs, read from the file.</summary>
public sealed record BertConfig
{
    /// <summary>Width of the hidden states (hidden_size).</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Number of encoder layers (num_hidden_layers).</summary>
    public required int NumHiddenLayers { get; init; }
    /// <summary>Attention heads per layer (num_attention_heads).</summary>
    public required int NumAttentionHeads { get; init; }
    /// <summary>Width of the feed-forward layer (intermediate_size).</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Number of learned positions (max_position_embeddings).</summary>
    public required int MaxPositionEmbeddings { get; init; }
    /// <summary>Number of token types (type_vocab_size).</summary>
    public required int TypeVocabSize { get; init; }
    /// <summary>Vocabulary size (vocab_size).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Activation name (hidden_act): gelu, gelu_new, gelu_pytorch_tanh or relu.</summary>
    public required string HiddenAct { get; init; }
    /// <summary>LayerNorm epsilon (layer_norm_eps, default 1e-12).</summary>
    public float LayerNormEps { get; init; } = 1e-12f;
    /// <summary>Whether the MLM decoder shares the word embeddings (tie_word_embeddings, default true).</summary>
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>Padding token id (pad_token_id, default 0).</summary>
    public int PadTokenId { get; init; }
    /// <summary>Architectures listed in the file (e.g. BertForMaskedLM).</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>Size of one attention head, hidden_size / num_attention_heads.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>The element-wise activation named by <see cref="HiddenAct"/>.</summary>
    public ElementTransform Activation => ActivationOf(HiddenAct) ?? throw new InvalidOperationException($"Unsupported hidden_act '{HiddenAct}'.");

    /// <summary>Reads and validates a config.json.</summary>
    /// <exception cref="ModelLoadException">Missing file or field, or an unsupported value; names the file and field.</exception>
    public static BertConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found.");
        byte[] bytes = File.ReadAllBytes(path);
        ModelJson.RequireUtf8(path, bytes);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new ModelLoadException(path, $"not well-formed JSON: {e.Message}", e); }
        ModelJson.RequireReadableStrings(path, bytes, doc);
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelLoadException(path, "the root is not a JSON object.");
            var config = new BertConfig
            {
                HiddenSize = RequiredInt(path, root, "hidden_size"),
                NumHiddenLayers = RequiredInt(path, root, "num_hidden_layers"),
                NumAttentionHeads = RequiredInt(path, root, "num_attention_heads"),
                IntermediateSize = RequiredInt(path, root, "intermediate_size"),
                MaxPositionEmbeddings = RequiredInt(path, root, "max_position_embeddings"),
                TypeVocabSize = OptionalInt(root, "type_vocab_size") ?? 2,
                VocabSize = RequiredInt(path, root, "vocab_size"),
                HiddenAct = root.TryGetProperty("hidden_act", out JsonElement act) && act.ValueKind == JsonValueKind.String ? act.GetString()! : "gelu",
                LayerNormEps = root.TryGetProperty("layer_norm_eps", out JsonElement eps) && eps.ValueKind == JsonValueKind.Number ? (float)eps.GetDouble() : 1e-12f,
                TieWordEmbeddings = !root.TryGetProperty("tie_word_embeddings", out JsonElement tie) || tie.ValueKind != JsonValueKind.False,
                PadTokenId = OptionalInt(root, "pad_token_id") ?? 0,
                Architectures = root.TryGetProperty("architectures", out JsonElement arch) && arch.ValueKind == JsonValueKind.Array
                    ? arch.EnumerateArray().Select(a => a.ValueKind is JsonValueKind.String or JsonValueKind.Null ? a.GetString() ?? ""
                        : throw new ModelLoadException(path, $"field 'architectures' must hold strings, found {a.ValueKind}.")).ToArray() : [],
            };
            if (ActivationOf(config.HiddenAct) is null)
                throw new ModelLoadException(path, $"hidden_act '{config.HiddenAct}' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu).");
            if (root.TryGetProperty("position_embedding_type", out JsonElement pet) && pet.ValueKind == JsonValueKind.String && pet.GetString() != "absolute")
                throw new ModelLoadException(path, $"position_embedding_type '{pet.GetString()}' is not supported (absolute).");
            if (config.HiddenSize % config.NumAttentionHeads != 0)
                throw new ModelLoadException(path, $"hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumAttentionHeads}.");
            if (config.TypeVocabSize < 1) throw new ModelLoadException(path, $"type_vocab_size must be at least 1, found {config.TypeVocabSize}.");
            return config;
        }
    }

    private static ElementTransform? ActivationOf(string name) => name switch
    {
        "gelu" => ElementTransform.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" => ElementTransform.GeluTanh,
        "relu" => ElementTransform.Relu,
        _ => null,
    };

    private static int RequiredInt(string path, JsonElement root, string name)
    {
        int? value = OptionalInt(root, name) ?? throw new ModelLoadException(path, $"field '{name}' is missing or not an integer.");
        if (value <= 0) throw new ModelLoadException(path, $"field '{name}' must be positive, found {value}.");
        return value.Value;
    }

    private static int? OptionalInt(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : null;
}
