using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Splade.Models;

namespace Splade.Training.Checkpoint;

/// <summary>Settings of <see cref="SparseEncoderInitializer.Create"/>.</summary>
public sealed record SparseEncoderInitOptions
{
    /// <summary>max_seq_length of the new model (null: the source's sentence_bert_config.json, else max_position_embeddings).</summary>
    public int? MaxSeqLength { get; init; }

    /// <summary>
    /// Scale s of the MLM transform's dense layer (weight s·I, bias 0). It is small so that GELU works in its
    /// linear range (gelu(x) = x·Φ(x) ≈ x/2 for |x| ≪ 1), where the LayerNorm that follows cancels the scale.
    /// </summary>
    public float DenseScale { get; init; } = 0.01f;

    /// <summary>
    /// Value of every entry of the decoder bias <c>cls.predictions.bias</c> (default 0). With 0, about every
    /// logit of all-MiniLM-L6-v2's tokens is positive (27,000–30,000 active dimensions per text); a negative
    /// value is a threshold that leaves the largest projections only (−3: a few hundred per document).
    /// </summary>
    public float DecoderBias { get; init; }

    /// <summary>Pooling of the new SpladePooling module: max (default) or sum.</summary>
    public string PoolingStrategy { get; init; } = "max";

    /// <summary>Activation of the new SpladePooling module: relu (default) or log1p_relu.</summary>
    public string ActivationFunction { get; init; } = "relu";
}

/// <summary>
/// Turns a BERT encoder without a masked-LM head (a Hugging Face <c>BertModel</c> or a sentence-transformers
/// Transformer folder) into a sentence-transformers <c>SparseEncoder</c> folder: MLMTransformer
/// (<c>BertForMaskedLM</c>, decoder tied to the word embeddings) + SpladePooling. The encoder weights are
/// copied unchanged (widened exactly to float32, under the <c>bert.</c> prefix; the pooler is dropped, as
/// BertForMaskedLM has none). The new head is initialised so that logits ≈ E·h, the projection of the
/// encoder's last hidden state h onto the word embeddings E:
/// <list type="bullet">
/// <item><c>transform.dense</c> = s·I, bias 0: gelu(s·h) ≈ s·h/2 for small s;</item>
/// <item><c>transform.LayerNorm</c> takes the gain and bias of the encoder's last LayerNorm, so that
///   LN(s·h/2) rescaled by them has the statistics of h itself (h is that LayerNorm's output);</item>
/// <item><c>cls.predictions.bias</c> = 0 (or the constant <see cref="SparseEncoderInitOptions.DecoderBias"/>).</item>
/// </list>
/// </summary>
public static class SparseEncoderInitializer
{
    /// <summary>Files of the source that are not carried over (weights, exports, cards, configs rewritten here).</summary>
    private static readonly HashSet<string> NotCopied = new(StringComparer.Ordinal)
    {
        "model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "rust_model.ot", "README.md",
        "config.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
    };

    /// <summary>Writes the SparseEncoder folder <paramref name="outputDir"/> from the encoder in <paramref name="encoderDir"/>.</summary>
    /// <exception cref="ModelLoadException">The source lacks config.json / model.safetensors / a vocabulary, or a tensor is missing or misshaped.</exception>
    /// <returns>What was written: tensor count and the source's dtype.</returns>
    public static SparseEncoderInitResult Create(string encoderDir, string outputDir, SparseEncoderInitOptions? options = null)
    {
        options ??= new SparseEncoderInitOptions();
        if (options.PoolingStrategy is not ("max" or "sum")) throw new ArgumentException($"pooling '{options.PoolingStrategy}' (expected max or sum).", nameof(options));
        if (options.ActivationFunction is not ("relu" or "log1p_relu")) throw new ArgumentException($"activation '{options.ActivationFunction}' (expected relu or log1p_relu).", nameof(options));
        if (!(options.DenseScale > 0 && float.IsFinite(options.DenseScale))) throw new ArgumentException($"dense scale must be positive, got {options.DenseScale}.", nameof(options));
        encoderDir = Path.GetFullPath(encoderDir);
        outputDir = Path.GetFullPath(outputDir);
        if (!Directory.Exists(encoderDir)) throw new ModelLoadException(encoderDir, "encoder folder not found.");
        if (encoderDir == outputDir) throw new ArgumentException("the output folder must differ from the encoder folder.", nameof(outputDir));
        string configPath = Path.Combine(encoderDir, "config.json");
        string weightsPath = Path.Combine(encoderDir, "model.safetensors");
        BertConfig config = BertConfig.Load(configPath);
        if (!File.Exists(weightsPath)) throw new ModelLoadException(weightsPath, "file not found (the encoder's weights are read from model.safetensors).");
        bool hasTokenizerJson = File.Exists(Path.Combine(encoderDir, "tokenizer.json"));
        if (!hasTokenizerJson && !File.Exists(Path.Combine(encoderDir, "vocab.txt")))
            throw new ModelLoadException(encoderDir, "no tokenizer.json or vocab.txt: the new model needs the encoder's vocabulary.");

        int h = config.HiddenSize, v = config.VocabSize, layers = config.NumHiddenLayers;
        var tensors = new List<SafeTensorsFormat.F32Tensor>();
        string sourceDType;
        using (var file = SafeTensorsFile.Open(weightsPath))
        {
            string prefix = file.Tensors.ContainsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
            if (!file.Tensors.ContainsKey(prefix + "embeddings.word_embeddings.weight"))
                throw new ModelLoadException(weightsPath, "tensor 'embeddings.word_embeddings.weight' (or 'bert.embeddings.word_embeddings.weight') not found: not a BERT encoder.");
            if (file.Tensors.Keys.Any(k => k.StartsWith("cls.", StringComparison.Ordinal)))
                throw new ModelLoadException(weightsPath, "the checkpoint already has an MLM head (cls.* tensors); load it as it is.");
            sourceDType = string.Join("+", file.Tensors.Values.Select(t => t.DType.ToString()).Distinct().Order(StringComparer.Ordinal));
            foreach (string name in EncoderTensorNames(layers))
            {
                string src = prefix + name;
                if (!file.Tensors.TryGetValue(src, out var info)) throw new ModelLoadException(weightsPath, $"tensor '{src}' not found.");
                int[] expected = ExpectedShape(name, config);
                if (!info.Shape.SequenceEqual(expected))
                    throw new ModelLoadException(weightsPath, $"tensor '{src}' has shape {info.ShapeText}, config.json implies {SafeTensorsFile.FormatShape(expected)}.");
                tensors.Add(new("bert." + name, expected, file.ReadFloat32(src)));
            }
        }

        // The head: dense = s·I (bias 0), LayerNorm = the encoder's last LayerNorm, decoder tied, bias 0.
        var dense = new float[h * h];   // [h, h], row-major [out, in]
        for (int i = 0; i < h; i++) dense[i * h + i] = options.DenseScale;
        string lastLn = $"bert.encoder.layer.{layers - 1}.output.LayerNorm.";
        float[] lnWeight = tensors.First(t => t.Name == lastLn + "weight").Data.ToArray();
        float[] lnBias = tensors.First(t => t.Name == lastLn + "bias").Data.ToArray();
        tensors.Add(new("cls.predictions.transform.dense.weight", [h, h], dense));
        tensors.Add(new("cls.predictions.transform.dense.bias", [h], new float[h]));
        tensors.Add(new("cls.predictions.transform.LayerNorm.weight", [h], lnWeight));
        tensors.Add(new("cls.predictions.transform.LayerNorm.bias", [h], lnBias));
        var decoderBias = new float[v];
        Array.Fill(decoderBias, options.DecoderBias);
        tensors.Add(new("cls.predictions.bias", [v], decoderBias));

        Directory.CreateDirectory(outputDir);
        foreach (string path in Directory.EnumerateFiles(encoderDir, "*", SearchOption.TopDirectoryOnly))
        {
            string name = Path.GetFileName(path);
            // Bytes, not File.Copy: a read-only source file must not make a read-only output.
            if (!NotCopied.Contains(name)) File.WriteAllBytes(Path.Combine(outputDir, name), File.ReadAllBytes(path));
        }
        SafeTensorsFormat.Write(Path.Combine(outputDir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        int maxSeq = options.MaxSeqLength ?? SourceMaxSeqLength(encoderDir) ?? config.MaxPositionEmbeddings;
        if (maxSeq <= 2 || maxSeq > config.MaxPositionEmbeddings)
            throw new ArgumentException($"max_seq_length {maxSeq} must be in 3..{config.MaxPositionEmbeddings} (max_position_embeddings).", nameof(options));
        WriteConfig(configPath, Path.Combine(outputDir, "config.json"));
        WriteJson(Path.Combine(outputDir, "modules.json"), new JsonArray(
            new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = "sentence_transformers.sparse_encoder.models.MLMTransformer" },
            new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = "1_SpladePooling", ["type"] = "sentence_transformers.sparse_encoder.models.SpladePooling" }));
        WriteJson(Path.Combine(outputDir, "config_sentence_transformers.json"), new JsonObject
        {
            ["model_type"] = "SparseEncoder",
            ["prompts"] = new JsonObject { ["query"] = "", ["document"] = "" },
            ["default_prompt_name"] = null,
            ["similarity_fn_name"] = "dot",
        });
        WriteJson(Path.Combine(outputDir, "sentence_bert_config.json"), new JsonObject { ["max_seq_length"] = maxSeq, ["do_lower_case"] = false });
        Directory.CreateDirectory(Path.Combine(outputDir, "1_SpladePooling"));
        WriteJson(Path.Combine(outputDir, "1_SpladePooling", "config.json"), new JsonObject
        {
            ["pooling_strategy"] = options.PoolingStrategy,
            ["activation_function"] = options.ActivationFunction,
            ["word_embedding_dimension"] = v,
        });
        if (!hasTokenizerJson) WriteBertTokenizerFiles(outputDir, maxSeq);
        return new SparseEncoderInitResult(tensors.Count, sourceDType, maxSeq, options.DecoderBias);
    }

    /// <summary>Tensor names of a BertModel's embeddings and encoder (no pooler), without prefix.</summary>
    internal static IEnumerable<string> EncoderTensorNames(int layers)
    {
        foreach (string e in new[] { "word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias" })
            yield return "embeddings." + e;
        string[] perLayer =
        [
            "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight", "attention.self.key.bias",
            "attention.self.value.weight", "attention.self.value.bias", "attention.output.dense.weight", "attention.output.dense.bias",
            "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
            "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias",
        ];
        for (int l = 0; l < layers; l++)
            foreach (string p in perLayer) yield return $"encoder.layer.{l}.{p}";
    }

    private static int[] ExpectedShape(string name, BertConfig c)
    {
        int h = c.HiddenSize, i = c.IntermediateSize;
        if (name == "embeddings.word_embeddings.weight") return [c.VocabSize, h];
        if (name == "embeddings.position_embeddings.weight") return [c.MaxPositionEmbeddings, h];
        if (name == "embeddings.token_type_embeddings.weight") return [c.TypeVocabSize, h];
        if (name.EndsWith("intermediate.dense.weight", StringComparison.Ordinal)) return [i, h];
        if (name.EndsWith("intermediate.dense.bias", StringComparison.Ordinal)) return [i];
        if (name.EndsWith("output.dense.weight", StringComparison.Ordinal) && !name.Contains("attention", StringComparison.Ordinal)) return [h, i];
        if (name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("LayerNorm", StringComparison.Ordinal)) return [h, h];
        return [h];
    }

    private static int? SourceMaxSeqLength(string dir)
    {
        string path = Path.Combine(dir, "sentence_bert_config.json");
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.TryGetProperty("max_seq_length", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : null;
    }

    /// <summary>The source's config.json as a BertForMaskedLM one: tied decoder, float32 weights.</summary>
    private static void WriteConfig(string sourcePath, string outputPath)
    {
        var json = JsonNode.Parse(File.ReadAllText(sourcePath)) as JsonObject ?? throw new ModelLoadException(sourcePath, "the root is not a JSON object.");
        json["architectures"] = new JsonArray("BertForMaskedLM");
        json["torch_dtype"] = "float32";
        json["tie_word_embeddings"] = true;
        WriteJson(outputPath, json);
    }

    /// <summary>tokenizer.json (the bert-base-uncased pipeline over vocab.txt), tokenizer_config.json and special_tokens_map.json.</summary>
    private static void WriteBertTokenizerFiles(string dir, int maxSeq)
    {
        string[] vocab = File.ReadAllLines(Path.Combine(dir, "vocab.txt"));
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocab.Length; i++) ids.TryAdd(vocab[i], i);
        string[] specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
        foreach (string s in specials)
            if (!ids.ContainsKey(s)) throw new ModelLoadException(Path.Combine(dir, "vocab.txt"), $"special token '{s}' is not in the vocabulary.");
        var vocabJson = new JsonObject();
        foreach (var (token, id) in ids) vocabJson[token] = id;
        JsonObject Special(string s) => new() { ["SpecialToken"] = new JsonObject { ["id"] = s, ["type_id"] = 0 } };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(specials.OrderBy(s => ids[s]).Select(s => (JsonNode)new JsonObject
            {
                ["id"] = ids[s], ["special"] = true, ["content"] = s, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false,
            }).ToArray()),
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = true },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]"), new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }, Special("[SEP]")),
                ["pair"] = new JsonArray(Special("[CLS]"), new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }, Special("[SEP]"),
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } },
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "[SEP]", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject
                {
                    ["[CLS]"] = new JsonObject { ["id"] = "[CLS]", ["ids"] = new JsonArray(ids["[CLS]"]), ["tokens"] = new JsonArray("[CLS]") },
                    ["[SEP]"] = new JsonObject { ["id"] = "[SEP]", ["ids"] = new JsonArray(ids["[SEP]"]), ["tokens"] = new JsonArray("[SEP]") },
                },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocabJson,
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer.ToJsonString(), new UTF8Encoding(false));
        if (!File.Exists(Path.Combine(dir, "tokenizer_config.json")))
            WriteJson(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
            {
                ["clean_up_tokenization_spaces"] = false, ["cls_token"] = "[CLS]", ["do_basic_tokenize"] = true, ["do_lower_case"] = true,
                ["mask_token"] = "[MASK]", ["model_max_length"] = maxSeq, ["never_split"] = null, ["pad_token"] = "[PAD]", ["sep_token"] = "[SEP]",
                ["strip_accents"] = null, ["tokenize_chinese_chars"] = true, ["tokenizer_class"] = "BertTokenizer", ["unk_token"] = "[UNK]",
            });
        if (!File.Exists(Path.Combine(dir, "special_tokens_map.json")))
            WriteJson(Path.Combine(dir, "special_tokens_map.json"), new JsonObject
            {
                ["cls_token"] = "[CLS]", ["mask_token"] = "[MASK]", ["pad_token"] = "[PAD]", ["sep_token"] = "[SEP]", ["unk_token"] = "[UNK]",
            });
    }

    private static void WriteJson(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", new UTF8Encoding(false));
}

/// <summary>What <see cref="SparseEncoderInitializer.Create"/> wrote.</summary>
/// <param name="TensorCount">Tensors in the new model.safetensors (all F32).</param>
/// <param name="SourceDType">dtype(s) of the source's tensors, e.g. F16.</param>
/// <param name="MaxSeqLength">max_seq_length written to sentence_bert_config.json.</param>
/// <param name="DecoderBias">Value of every entry of cls.predictions.bias.</param>
public sealed record SparseEncoderInitResult(int TensorCount, string SourceDType, int MaxSeqLength, float DecoderBias)
{
    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{TensorCount} tensors (F32, from {SourceDType}), max_seq_length {MaxSeqLength}, decoder bias {DecoderBias}");
}
