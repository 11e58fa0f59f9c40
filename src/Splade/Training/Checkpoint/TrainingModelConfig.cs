using System.Text.Json;

namespace Splade.Training.Checkpoint;

/// <summary>
/// The settings of a BERT masked-LM checkpoint that training needs, read from its <c>config.json</c>
/// (transformers <c>BertConfig</c> names), plus the SPLADE pooling settings of <c>1_SpladePooling/config.json</c>
/// and <c>max_seq_length</c> of <c>sentence_bert_config.json</c>.
/// </summary>
public sealed record TrainingModelConfig(
    int VocabSize, int HiddenSize, int NumHiddenLayers, int NumAttentionHeads, int IntermediateSize,
    int MaxPositionEmbeddings, int TypeVocabSize, float LayerNormEps, string HiddenAct,
    float HiddenDropoutProb, float AttentionProbsDropoutProb, bool TieWordEmbeddings,
    string PoolingStrategy, string ActivationFunction, int MaxSeqLength)
{
    /// <summary>Size of one attention head (hidden / heads).</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>Reads the configuration files of a model folder in the Hugging Face / sentence-transformers layout.</summary>
    public static TrainingModelConfig Load(string modelDir)
    {
        string configPath = Path.Combine(modelDir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: missing model config.", configPath);
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        var r = doc.RootElement;
        int Int(string name, int? fallback = null)
        {
            if (r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number) return v.GetInt32();
            return fallback ?? throw new InvalidDataException($"{configPath}: required integer '{name}' is missing.");
        }
        float Float(string name, float fallback) =>
            r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : fallback;

        string act = r.TryGetProperty("hidden_act", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "gelu";
        if (act is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh"))
            throw new NotSupportedException($"{configPath}: hidden_act '{act}' is not supported for training (expected gelu, gelu_new or gelu_pytorch_tanh).");
        bool tie = !(r.TryGetProperty("tie_word_embeddings", out var t) && t.ValueKind == JsonValueKind.False);

        string pooling = "max", activation = "relu";
        string poolPath = Path.Combine(modelDir, "1_SpladePooling", "config.json");
        if (File.Exists(poolPath))
        {
            using var pd = JsonDocument.Parse(File.ReadAllText(poolPath));
            if (pd.RootElement.TryGetProperty("pooling_strategy", out var ps) && ps.ValueKind == JsonValueKind.String) pooling = ps.GetString()!;
            if (pd.RootElement.TryGetProperty("activation_function", out var af) && af.ValueKind == JsonValueKind.String) activation = af.GetString()!;
        }
        if (pooling is not ("max" or "sum")) throw new NotSupportedException($"{poolPath}: pooling_strategy '{pooling}' (expected max or sum).");
        if (activation is not ("relu" or "log1p_relu")) throw new NotSupportedException($"{poolPath}: activation_function '{activation}' (expected relu or log1p_relu).");

        int maxPos = Int("max_position_embeddings", 512);
        int maxSeq = maxPos;
        string sbPath = Path.Combine(modelDir, "sentence_bert_config.json");
        if (File.Exists(sbPath))
        {
            using var sd = JsonDocument.Parse(File.ReadAllText(sbPath));
            if (sd.RootElement.TryGetProperty("max_seq_length", out var ms) && ms.ValueKind == JsonValueKind.Number)
                maxSeq = Math.Min(ms.GetInt32(), maxPos);
        }

        var cfg = new TrainingModelConfig(
            Int("vocab_size"), Int("hidden_size"), Int("num_hidden_layers"), Int("num_attention_heads"), Int("intermediate_size"),
            maxPos, Int("type_vocab_size", 2), Float("layer_norm_eps", 1e-12f), act,
            Float("hidden_dropout_prob", 0.1f), Float("attention_probs_dropout_prob", 0.1f), tie, pooling, activation, maxSeq);
        if (cfg.HiddenSize % cfg.NumAttentionHeads != 0)
            throw new InvalidDataException($"{configPath}: hidden_size {cfg.HiddenSize} is not a multiple of num_attention_heads {cfg.NumAttentionHeads}.");
        return cfg;
    }
}
