using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Splade.Evaluation;
using Splade.Tests.Training;
using Splade.Training.Losses;
using Splade.Training.Model;
using Splade.Training.Optim;
using Xunit.Abstractions;

namespace Splade.Tests.Compatibility;

/// <summary>
/// Both directions against sentence-transformers itself (outputs in testdata/python-reference): our vectors,
/// training step, evaluator metrics and tokenizer against the library's, our checkpoints loaded by the library,
/// and the library's checkpoints (including an inference-free Router model) loaded by us.
/// </summary>
public class PythonLibraryCompatibilityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("tiny-splade", "texts")]
    // The library computes an F16 checkpoint in float16 unless told otherwise; the reference for our float32
    // computation is the same checkpoint loaded with dtype float32.
    [InlineData("tiny-splade-variant", "texts_fp32")]
    public void Fixture_texts_encode_as_in_the_python_library(string model, string key)
    {
        var encoder = SparseEncoder.Load(TestData.Model(model), new SparseEncoderOptions { Threads = 2 });
        var (diff, ids) = PythonReference.Compare(encoder, PythonReference.Vectors(model, key));
        output.WriteLine($"{model}: {ids} token-id lists equal, max abs diff {diff:E2}");
        Assert.Equal(28, ids);
        Assert.True(diff <= Tolerance, $"max abs diff {diff}");
    }

    [Fact]
    public void Float16_checkpoint_in_the_python_default_dtype_stays_within_half_precision_of_ours()
    {
        // Documents what users see when they compare with the library's default (float16 compute on an F16
        // checkpoint): same ids, values within float16 rounding of ours, non-zero sets differing only on tiny values.
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade-variant"));
        var reference = PythonReference.Vectors("tiny-splade-variant");
        double maxDiff = 0, maxMissing = 0;
        foreach (var t in reference)
        {
            Assert.Equal(t.Ids, encoder.TokenIds(t.Text, t.Role));
            var ours = t.Role == "query" ? encoder.EncodeQuery(t.Text) : encoder.EncodeDocument(t.Text);
            var theirs = t.Indices.Zip(t.Values).ToDictionary(p => p.First, p => p.Second);
            for (int k = 0; k < ours.Count; k++)
            {
                float value = ours.Values[k];
                if (theirs.TryGetValue(ours.Indices[k], out float v)) maxDiff = Math.Max(maxDiff, Math.Abs(v - value));
                else maxMissing = Math.Max(maxMissing, value);
            }
        }
        output.WriteLine($"float16 default: max abs diff {maxDiff:E2} on shared dimensions, largest weight only one side has {maxMissing:E2}");
        Assert.InRange(maxDiff, 0, 0.05);
        Assert.InRange(maxMissing, 0, 0.05);
    }

    [Fact]
    public void Bert_mini_random_splade_encodes_as_in_the_python_library()
    {
        if (TestData.SharedData is not { } shared)
        {
            output.WriteLine("SKIPPED: shared data (bert-mini-random-splade) not found; set SPLADE_SHARED_DATA to run.");
            return;
        }
        var encoder = SparseEncoder.Load(Path.Combine(shared, "models", "bert-mini-random-splade"), new SparseEncoderOptions { Threads = 2 });
        var (diff, ids) = PythonReference.Compare(encoder, PythonReference.Vectors("bert-mini-random-splade"));
        output.WriteLine($"bert-mini-random-splade: {ids} token-id lists equal, max abs diff {diff:E2}");
        Assert.True(diff <= Tolerance, $"max abs diff {diff}");
    }

    [Fact]
    public void Checkpoint_written_by_splade_train_gives_the_python_library_the_same_vectors()
    {
        // testdata/python-reference/splade-trained is a `splade train` output; the library loaded it with no
        // warning, every tensor bit-identical to the file (summary.json), and encoded the fixture texts.
        using var summary = PythonReference.Json("summary.json");
        var load = summary.RootElement.GetProperty("splade-trained");
        Assert.Equal(0, load.GetProperty("load_messages").GetArrayLength());
        Assert.Equal(0.0, load.GetProperty("state_dict_vs_file").GetProperty("max_abs_diff").GetDouble());
        Assert.Equal(0, load.GetProperty("state_dict_vs_file").GetProperty("not_in_model").GetArrayLength());

        var encoder = SparseEncoder.Load(PythonReference.File("splade-trained"));
        var (diff, _) = PythonReference.Compare(encoder, PythonReference.Vectors("splade-trained"));
        output.WriteLine($"splade-trained: max abs diff {diff:E2}");
        Assert.True(diff <= Tolerance, $"max abs diff {diff}");
    }

    [Fact]
    public void Checkpoint_saved_by_the_python_library_loads_and_encodes_the_same()
    {
        // Saved by SparseEncoder.save after three training steps: transformers 5 config.json ("dtype"), no
        // vocab.txt, sentence_bert_config.json without max_seq_length (taken from tokenizer_config.json).
        var encoder = SparseEncoder.Load(PythonReference.File("python-trained-tiny-splade"));
        Assert.Equal(128, encoder.MaxSeqLength);
        var (diff, ids) = PythonReference.Compare(encoder, PythonReference.Vectors("python-trained-tiny-splade"));
        output.WriteLine($"python-trained-tiny-splade: {ids} token-id lists equal, max abs diff {diff:E2}");
        Assert.True(diff <= Tolerance, $"max abs diff {diff}");
    }

    [Fact]
    public void Inference_free_router_model_saved_by_the_python_library_loads_and_encodes_the_same()
    {
        // Router: queries through SparseStaticEmbedding, documents through MLMTransformer + SpladePooling; the
        // tokenizer files live in the module folders.
        var encoder = SparseEncoder.Load(PythonReference.File("inference-free-tiny-splade"));
        Assert.True(encoder.Model.Folder.IsRouter);
        // The recorded ids come from the library's tokenize() without a task, i.e. the default (document) route.
        var reference = PythonReference.Vectors("inference-free-tiny-splade").Select(r => r.Role == "query" ? r with { Ids = null } : r).ToArray();
        var (diff, ids) = PythonReference.Compare(encoder, reference);
        Assert.Equal(reference.Count(r => r.Role == "document"), ids);
        output.WriteLine($"inference-free-tiny-splade: max abs diff {diff:E2}");
        Assert.True(diff <= Tolerance, $"max abs diff {diff}");
        // The query route is a table lookup: exact.
        foreach (var q in reference.Where(t => t.Role == "query"))
            Assert.Equal(q.Values, encoder.EncodeQuery(q.Text).Values.ToArray());
    }

    [Fact]
    public void SpladeLoss_step_matches_the_python_library()
    {
        using var doc = PythonReference.Json("training.json");
        var steps = doc.RootElement.GetProperty("steps").EnumerateArray().ToArray();
        var fx = TrainingFixture.Load();
        var p = fx.LoadParameters();
        var model = new BertMlmSplade(p);
        var loss = new SpladeLoss(new SparseMultipleNegativesRankingLoss(1.0), 0.003, 0.005);
        var opt = new AdamW(0.9, 0.999, 1e-8, 0.01);
        for (int step = 0; step < steps.Length; step++)
        {
            p.ZeroGrad();
            var parts = fx.Step(model, loss);
            var s = steps[step];
            output.WriteLine($"step {step}: loss {parts.Total:R} vs {s.GetProperty("loss").GetDouble():R}; base {parts.Base:R} vs {s.GetProperty("base_loss").GetDouble():R}");
            Assert.InRange(Math.Abs(parts.Total - s.GetProperty("loss").GetDouble()), 0, Tolerance);
            Assert.InRange(Math.Abs(parts.Base - s.GetProperty("base_loss").GetDouble()), 0, Tolerance);
            Assert.InRange(Math.Abs(parts.DocumentRegularizer - s.GetProperty("document_regularizer_loss").GetDouble()), 0, Tolerance);
            Assert.InRange(Math.Abs(parts.QueryRegularizer - s.GetProperty("query_regularizer_loss").GetDouble()), 0, Tolerance);
            if (step == 0)
                Assert.Equal(0, GradientComparison.CountFailingTensors(p, TrainingFixture.ReadTensors(PythonReference.File("training.grads.safetensors")), output));
            opt.Update(p.All, 1e-3);
        }
    }

    [Theory]
    [InlineData("tiny-splade")]
    [InlineData("bert-mini-random-splade")]
    public void Evaluator_metrics_match_the_python_library_on_adi(string model)
    {
        string folder = TestData.Model(model);
        if (model == "bert-mini-random-splade")
        {
            if (TestData.SharedData is not { } shared)
            {
                output.WriteLine("SKIPPED: shared data (bert-mini-random-splade) not found; set SPLADE_SHARED_DATA to run.");
                return;
            }
            folder = Path.Combine(shared, "models", model);
        }
        var encoder = SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = 2 });
        var result = new SparseInformationRetrievalEvaluator(IrDataset.LoadBeir(TestData.Path_("ir", "adi")), "adi").Evaluate(encoder);
        using var doc = PythonReference.Json($"eval-adi-{model}.json");
        var expected = doc.RootElement.GetProperty("metrics").EnumerateObject().ToArray();
        Assert.Equal(expected.Select(m => m.Name), result.Metrics.Select(m => m.Key));
        foreach (var m in expected)
        {
            double ours = result[m.Name], theirs = m.Value.GetDouble();
            // Ranking metrics are exact fractions: equal to the last bits. Active dims are float32 means in the
            // library (about 7 significant digits).
            double allowed = m.Name.Contains('@') ? 1e-12 : 1e-6 * Math.Max(1, Math.Abs(theirs));
            output.WriteLine($"{m.Name}: {ours:R} vs {theirs:R}");
            Assert.True(Math.Abs(ours - theirs) <= allowed, $"{m.Name}: {ours} vs {theirs}");
        }

        string csv = Path.Combine(Path.GetTempPath(), $"splade-adi-{Guid.NewGuid():N}.csv");
        try
        {
            result.AppendCsv(csv);
            string theirsHeader = File.ReadLines(Directory.GetFiles(PythonReference.File($"eval-adi-{model}"), "*.csv").Single()).First();
            Assert.Equal(theirsHeader, File.ReadLines(csv).First());
        }
        finally { File.Delete(csv); }
    }

    [Fact]
    public void Tokenizer_ids_match_the_python_library_tokenizer()
    {
        using var doc = PythonReference.Json("tokenizer-hashes.json");
        var entries = doc.RootElement.GetProperty("entries").EnumerateArray().ToArray();
        var tokenizer = SparseEncoder.Load(TestData.Model("tiny-splade")).Tokenizer;
        var extra = ExtraStrings();
        int checkedCount = 0, extraIndex = 0;
        foreach (var e in entries)
        {
            string? text = e.GetProperty("source").GetString() == "extra"
                ? extra is null ? null : extra[extraIndex++]
                : e.GetProperty("text").GetString();
            if (text is null) continue;
            int[] ids = tokenizer.Encode(text).Ids;
            string hash = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(string.Join(',', ids.Select(i => i.ToString(CultureInfo.InvariantCulture))))))[..16];
            Assert.True(hash == e.GetProperty("sha1").GetString(), $"ids differ for '{text[..Math.Min(60, text.Length)]}' ({ids.Length} vs {e.GetProperty("n").GetInt32()} ids)");
            checkedCount++;
        }
        if (extra is not null) Assert.Equal(extra.Count, extraIndex);
        output.WriteLine($"{checkedCount} of {entries.Length} strings tokenized as the library does" + (extra is null ? " (shared data absent: collection strings skipped)" : ""));
        Assert.True(checkedCount >= 200);
    }

    /// <summary>The strings the reference lists as "extra", rebuilt from the shared collections (null when absent).</summary>
    private static List<string>? ExtraStrings()
    {
        if (TestData.SharedData is not { } shared) return null;
        var list = new List<string>();
        (string Collection, string[] Files)[] sources =
        [
            ("cranfield", ["queries.jsonl", "corpus.jsonl"]), ("medline", ["queries.jsonl"]), ("cisi", ["queries.jsonl"]),
            ("time", ["queries.jsonl"]), ("npl", ["queries.jsonl"]),
        ];
        foreach (var (collection, files) in sources)
            foreach (string file in files)
                foreach (string line in File.ReadLines(Path.Combine(shared, "ir", collection, file)))
                {
                    using var record = JsonDocument.Parse(line);
                    foreach (string field in new[] { "title", "text" })
                        if (record.RootElement.TryGetProperty(field, out var v) && v.GetString() is { Length: > 0 } s) list.Add(s);
                }
        return list;
    }
}
