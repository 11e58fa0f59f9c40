using System.Text.Json;
using Splade.Models;
using Splade.Tests.Cli;
using Splade.Tests.Models;
using Splade.Tokenization;
using Splade.Training.Checkpoint;
using Xunit.Abstractions;

namespace Splade.Tests.Training;

/// <summary>
/// `splade init`: a SparseEncoder folder from a BERT encoder without an MLM head. The encoder part must be
/// the source's weights unchanged (its hidden states reproduce the source's fixture), the folder must have the
/// file names and tensor keys of the checkpoints the Python library loads, and the head must start as the
/// projection of the last hidden state onto the tied word embeddings.
/// </summary>
public sealed class SparseEncoderInitializerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-init-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>tiny-splade's encoder as a plain BertModel folder: no cls.*, no "bert." prefix, config "BertModel", vocab.txt only.</summary>
    private string TinyEncoder()
    {
        string src = TestData.Model("tiny-splade"), dst = Path.Combine(_dir, "tiny-encoder");
        Directory.CreateDirectory(dst);
        using (var file = SafeTensorsFile.Open(Path.Combine(src, "model.safetensors")))
            SafeTensorsFormat.Write(Path.Combine(dst, "model.safetensors"), file.Tensors.Values
                .Where(t => t.Name.StartsWith("bert.", StringComparison.Ordinal))
                .Select(t => new SafeTensorsFormat.F32Tensor(t.Name["bert.".Length..], t.Shape, file.ReadFloat32(t.Name))));
        string config = File.ReadAllText(Path.Combine(src, "config.json")).Replace("BertForMaskedLM", "BertModel");
        File.WriteAllText(Path.Combine(dst, "config.json"), config);
        File.Copy(Path.Combine(src, "vocab.txt"), Path.Combine(dst, "vocab.txt"));
        return dst;
    }

    private static IEnumerable<string> Files(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal);

    [Fact]
    public void Layout_file_names_and_tensor_keys_match_a_library_checkpoint()
    {
        string output = Path.Combine(_dir, "out");
        var result = SparseEncoderInitializer.Create(TinyEncoder(), output);
        string reference = TestData.Model("tiny-splade");
        Assert.Equal(Files(reference), Files(output));
        using var made = SafeTensorsFile.Open(Path.Combine(output, "model.safetensors"));
        using var known = SafeTensorsFile.Open(Path.Combine(reference, "model.safetensors"));
        Assert.Equal(known.Tensors.Keys.Order(StringComparer.Ordinal), made.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var t in known.Tensors.Values) Assert.Equal(t.Shape, made.Tensors[t.Name].Shape);
        Assert.All(made.Tensors.Values, t => Assert.Equal(SafeTensorDType.F32, t.DType));
        Assert.Equal(known.Tensors.Count, result.TensorCount);
        Assert.Equal(File.ReadAllText(Path.Combine(reference, "modules.json")).Replace("\r", "").Trim(),
            File.ReadAllText(Path.Combine(output, "modules.json")).Replace("\r", "").Trim());
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "config.json")));
        Assert.Equal("BertForMaskedLM", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.True(config.RootElement.GetProperty("tie_word_embeddings").GetBoolean());
        using var pooling = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "1_SpladePooling", "config.json")));
        Assert.Equal("max", pooling.RootElement.GetProperty("pooling_strategy").GetString());
        Assert.Equal("relu", pooling.RootElement.GetProperty("activation_function").GetString());
    }

    [Fact]
    public void Encoder_weights_are_copied_exactly_and_the_head_is_as_designed()
    {
        string output = Path.Combine(_dir, "out");
        SparseEncoderInitializer.Create(TinyEncoder(), output, new SparseEncoderInitOptions { DecoderBias = -2.5f, DenseScale = 0.02f });
        using var made = SafeTensorsFile.Open(Path.Combine(output, "model.safetensors"));
        using var known = SafeTensorsFile.Open(Path.Combine(TestData.Model("tiny-splade"), "model.safetensors"));
        foreach (string name in known.Tensors.Keys.Where(n => n.StartsWith("bert.", StringComparison.Ordinal)))
            Assert.Equal(known.ReadFloat32(name), made.ReadFloat32(name));
        int h = 32;
        float[] dense = made.ReadFloat32("cls.predictions.transform.dense.weight");
        for (int i = 0; i < h; i++)
            for (int j = 0; j < h; j++) Assert.Equal(i == j ? 0.02f : 0f, dense[i * h + j]);
        Assert.All(made.ReadFloat32("cls.predictions.transform.dense.bias"), x => Assert.Equal(0f, x));
        Assert.Equal(known.ReadFloat32("bert.encoder.layer.1.output.LayerNorm.weight"), made.ReadFloat32("cls.predictions.transform.LayerNorm.weight"));
        Assert.Equal(known.ReadFloat32("bert.encoder.layer.1.output.LayerNorm.bias"), made.ReadFloat32("cls.predictions.transform.LayerNorm.bias"));
        Assert.All(made.ReadFloat32("cls.predictions.bias"), x => Assert.Equal(-2.5f, x));
        Assert.False(made.Tensors.ContainsKey("cls.predictions.decoder.weight"));
    }

    [Fact]
    public void Loads_with_the_source_hidden_states_and_logits_close_to_the_projection_onto_the_embeddings()
    {
        string output = Path.Combine(_dir, "out");
        SparseEncoderInitializer.Create(TinyEncoder(), output);
        var model = SpladeModel.Load(output, new SpladeModelOptions { Threads = 1 });
        Assert.True(model.HasMlmHead);
        var expected = ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", "tiny-splade.expected.json"));
        ExpectedText first = expected.Texts[0];
        float[][] states = model.HiddenStates(first.Ids);
        for (int layer = 0; layer < states.Length; layer++)
            Assert.True(SpladeModelFixtureTests.MaxAbsDiff(first.HiddenStates![layer].SelectMany(r => r).ToArray(), states[layer]) <= 1e-4f, $"layer {layer}");
        AssertLogitsNearProjection(model, first.Ids, minCosine: 0.99);
        Assert.NotEmpty(model.Forward([first.Ids])[0].Indices.ToArray());
    }

    /// <summary>Each token's logits against E·h (h its last hidden state): the head starts as that projection.</summary>
    private void AssertLogitsNearProjection(SpladeModel model, int[] ids, double minCosine)
    {
        int h = model.Config.HiddenSize, v = model.Dimension;
        float[] hidden = model.LastHiddenState(ids), logits = model.Logits(ids);
        using var file = SafeTensorsFile.Open(Path.Combine(model.Folder.TransformerDirectory, "model.safetensors"));
        float[] e = file.ReadFloat32("bert.embeddings.word_embeddings.weight");
        float bias = file.ReadFloat32("cls.predictions.bias")[0];
        double worst = 1;
        for (int t = 0; t < ids.Length; t++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < v; j++)
            {
                double p = 0;
                for (int i = 0; i < h; i++) p += (double)e[(long)j * h + i] * hidden[t * h + i];
                double l = logits[(long)t * v + j] - bias;
                dot += p * l; na += p * p; nb += l * l;
            }
            worst = Math.Min(worst, dot / Math.Sqrt(na * nb));
        }
        output.WriteLine($"{ids.Length} tokens: worst cosine between logits and E·h {worst:F5}");
        Assert.True(worst >= minCosine, $"cosine {worst}");
    }

    [Fact]
    public void Generated_tokenizer_json_gives_the_ids_of_the_reference_tokenizer()
    {
        string output = Path.Combine(_dir, "out");
        SparseEncoderInitializer.Create(TinyEncoder(), output);
        var made = BertTokenizer.FromTokenizerJson(Path.Combine(output, "tokenizer.json"));
        var known = BertTokenizer.FromFolder(TestData.Model("tiny-splade"));
        var expected = ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", "tiny-splade.expected.json"));
        foreach (var t in expected.Texts)
            Assert.Equal(known.Encode(t.Text, 128).Ids, made.Encode(t.Text, 128).Ids);
    }

    [Fact]
    public void Bad_sources_fail_with_the_file_named()
    {
        string encoder = TinyEncoder();
        Assert.Throws<ModelLoadException>(() => SparseEncoderInitializer.Create(Path.Combine(_dir, "missing"), Path.Combine(_dir, "o1")));
        // An MLM checkpoint is not an encoder to initialise.
        var e = Assert.Throws<ModelLoadException>(() => SparseEncoderInitializer.Create(TestData.Model("tiny-splade"), Path.Combine(_dir, "o2")));
        Assert.Contains("cls.", e.Message);
        // A config that disagrees with the weights.
        string wrong = Path.Combine(_dir, "wrong");
        Directory.CreateDirectory(wrong);
        foreach (string f in Directory.GetFiles(encoder)) File.Copy(f, Path.Combine(wrong, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(wrong, "config.json"), File.ReadAllText(Path.Combine(encoder, "config.json")).Replace("\"intermediate_size\": 64", "\"intermediate_size\": 65"));
        e = Assert.Throws<ModelLoadException>(() => SparseEncoderInitializer.Create(wrong, Path.Combine(_dir, "o3")));
        Assert.Contains("intermediate.dense.weight", e.Message);
        Assert.Contains("[64, 32]", e.Message);
        // No vocabulary.
        File.Delete(Path.Combine(wrong, "vocab.txt"));
        e = Assert.Throws<ModelLoadException>(() => SparseEncoderInitializer.Create(wrong, Path.Combine(_dir, "o4")));
        Assert.Contains("vocab.txt", e.Message);
        // No weights.
        File.Delete(Path.Combine(encoder, "model.safetensors"));
        e = Assert.Throws<ModelLoadException>(() => SparseEncoderInitializer.Create(encoder, Path.Combine(_dir, "o5")));
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public async Task Cli_init_writes_a_loadable_model_and_rejects_bad_options()
    {
        string encoder = TinyEncoder(), output = Path.Combine(_dir, "cli");
        var (code, _, stderr) = await CliRunner.RunAsync("init", "--from", encoder, "--output", output, "--max-seq-length", "64", "--decoder-bias", "-1");
        Assert.True(code == 0, stderr);
        Assert.Contains("reloaded", stderr);
        var encoderModel = SparseEncoder.Load(output);
        Assert.NotEmpty(encoderModel.EncodeDocuments(["a short document"])[0].Indices.ToArray());
        using (var sb = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "sentence_bert_config.json"))))
            Assert.Equal(64, sb.RootElement.GetProperty("max_seq_length").GetInt32());
        (code, _, stderr) = await CliRunner.RunAsync("init", "--from", Path.Combine(_dir, "nope"), "--output", output);
        Assert.Equal(2, code);
        Assert.Contains("--from", stderr);
        (code, _, stderr) = await CliRunner.RunAsync("init", "--from", encoder, "--output", output, "--pooling", "mean");
        Assert.Equal(2, code);
        Assert.Contains("--pooling", stderr);
        (code, _, stderr) = await CliRunner.RunAsync("init", "--from", encoder, "--output", output, "--max-seq-length", "4096");
        Assert.Equal(2, code);
        Assert.Contains("max_position_embeddings", stderr);
    }

    [Fact]
    public void AllMiniLM_f16_after_init_reproduces_its_hidden_states()
    {
        string? folder = TestData.SharedData is null ? null : Path.Combine(TestData.SharedData, "models", "all-MiniLM-L6-v2-f16");
        if (folder is null || !Directory.Exists(folder))
        {
            output.WriteLine("SKIPPED: all-MiniLM-L6-v2-f16 not found in the shared data folder.");
            return;
        }
        string outDir = Path.Combine(_dir, "minilm");
        var result = SparseEncoderInitializer.Create(folder, outDir, new SparseEncoderInitOptions { MaxSeqLength = 256, DecoderBias = -3 });
        Assert.Equal("F16", result.SourceDType);
        var model = SpladeModel.Load(outDir, new SpladeModelOptions { Threads = 2 });
        float worst = 0;
        foreach (var (ids, state) in ExpectedOutputs.LoadHiddenStates(folder + ".expected.json"))
        {
            float diff = SpladeModelFixtureTests.MaxAbsDiff(state.SelectMany(r => r).ToArray(), model.LastHiddenState(ids));
            worst = Math.Max(worst, diff);
            Assert.True(diff <= 1e-4f, $"{ids.Length} tokens: max abs diff {diff}");
        }
        output.WriteLine($"last_hidden_state max abs diff after init: {worst:E2}");
        int[] hello = [101, 7592, 2088, 102]; // [CLS] hello world [SEP]
        // The last LayerNorm's gain is not uniform, so LN(h) rescaled by it is close to h, not equal (measured 0.960).
        AssertLogitsNearProjection(model, hello, minCosine: 0.95);
        var vector = model.Forward([hello])[0];
        var top = vector.Indices.ToArray().Zip(vector.Values.ToArray()).OrderByDescending(p => p.Second).Take(5).Select(p => p.First).ToArray();
        output.WriteLine($"hello world: {vector.Count} active dims, top ids {string.Join(",", top)}");
        Assert.Contains(7592, top);
        Assert.Contains(2088, top);
        Assert.InRange(vector.Count, 2, 2000);
    }
}
