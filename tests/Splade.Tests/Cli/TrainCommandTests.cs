using System.Text.Json;
using Splade.Cli.Commands;
using Splade.Evaluation;
using Splade.Hub;
using Splade.Models;
using Splade.Tests.Hub;

namespace Splade.Tests.Cli;

/// <summary>`splade train` end to end on the tiny model: a few rows, two epochs of a couple of steps.</summary>
public class TrainCommandTests : IDisposable
{
    private static readonly string Model = TestData.Model("tiny-splade");
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-train-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly (string Id, string Text)[] Docs =
    [
        ("d1", "The capital of France is Paris, a city on the Seine."),
        ("d2", "Estrogens are produced primarily by the ovaries."),
        ("d3", "Jet engines compress air, burn fuel and expel hot gas."),
        ("d4", "The boundary layer on a flat plate thickens downstream."),
        ("d5", "Photosynthesis turns light, water and carbon dioxide into sugar."),
        ("d6", "A sonnet has fourteen lines and a fixed rhyme scheme."),
    ];

    private static readonly (string Id, string Text, string Doc)[] Queries =
    [
        ("q1", "what is the capital of france", "d1"),
        ("q2", "where is oestrogen produced", "d2"),
        ("q3", "how does a jet engine work", "d3"),
        ("q4", "boundary layer growth on a plate", "d4"),
    ];

    private string WriteRows()
    {
        string path = Path.Combine(_dir, "train.jsonl");
        File.WriteAllLines(path, Queries.Select((q, i) => JsonSerializer.Serialize(new
        {
            query = q.Text, positive = Docs.First(d => d.Id == q.Doc).Text, negative = $"An unrelated note number {i} about {Docs[4 + i % 2].Text}",
        })));
        return path;
    }

    private string WriteBeir()
    {
        string dir = Path.Combine(_dir, "beir");
        Directory.CreateDirectory(Path.Combine(dir, "qrels"));
        File.WriteAllLines(Path.Combine(dir, "corpus.jsonl"), Docs.Select(d => JsonSerializer.Serialize(new { _id = d.Id, title = "", text = d.Text })));
        File.WriteAllLines(Path.Combine(dir, "queries.jsonl"), Queries.Select(q => JsonSerializer.Serialize(new { _id = q.Id, text = q.Text })));
        File.WriteAllLines(Path.Combine(dir, "qrels", "test.tsv"), ["query-id\tcorpus-id\tscore", .. Queries.Select(q => $"{q.Id}\t{q.Doc}\t1")]);
        return dir;
    }

    private static string[] Common(string output, int epochs) =>
        ["--model", Model, "--output", output, "--epochs", epochs.ToString(), "--batch-size", "2", "--grad-accum", "1",
         "--lr", "1e-3", "--threads", "1", "--max-seq-length", "32"];

    [Fact]
    public async Task Train_writes_a_model_that_loads_and_reproduces_the_evaluation_with_a_full_card()
    {
        string output = Path.Combine(_dir, "out");
        string beir = WriteBeir();
        var (code, stdout, stderr) = await CliRunner.RunAsync(["train", "--train", WriteRows(), "--eval", beir, .. Common(output, 2)]);
        Assert.True(code == 0, stderr);
        Assert.Contains("step 2/4", stderr);
        Assert.Contains("tok/s", stderr);
        Assert.Contains("eval before training", stderr);
        Assert.Contains("dot_ndcg@10", stdout);

        // The folder is an ordinary model; evaluating it again gives the metrics the card and final_metrics.json report.
        var encoder = SparseEncoder.Load(output, new SparseEncoderOptions { Threads = 1 });
        Assert.Equal(32, encoder.MaxSeqLength); // the training limit is saved in sentence_bert_config.json
        var again = new SparseInformationRetrievalEvaluator(IrDataset.LoadBeir(beir)).Evaluate(encoder);
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "eval", "final_metrics.json")));
        foreach (var (name, value) in again.Metrics)
            Assert.Equal(value, saved.RootElement.GetProperty(name).GetDouble(), 12);

        string card = File.ReadAllText(Path.Combine(output, "README.md"));
        foreach (var (name, value) in again.Metrics) Assert.Contains(name, card);
        Assert.Contains("dot_map@100", card);
        Assert.Contains("corpus_sparsity_ratio", card);
        Assert.Contains("Size: 4 training samples", card);
        Assert.Contains("| 0 | 0 | - |", card);          // before training
        Assert.Contains("* The bold row denotes the saved checkpoint.", card);
        Assert.Contains("- per_device_train_batch_size: 2", card);
        Assert.Contains("### Framework Versions", card);
        Assert.Contains("SparseEncoder.Load(", card);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "eval", "Information-Retrieval_evaluation_results.csv")).Length - 2); // header + before + 2 epochs

        // The final weights are the best epoch's.
        using var best = SafeTensorsFile.Open(Path.Combine(output, "best", "model.safetensors"));
        using var final = SafeTensorsFile.Open(Path.Combine(output, "model.safetensors"));
        Assert.Equal(best.ReadFloat32("cls.predictions.bias"), final.ReadFloat32("cls.predictions.bias"));
    }

    [Fact]
    public async Task Resuming_after_one_epoch_gives_the_weights_of_an_uninterrupted_run()
    {
        string rows = WriteRows();
        string full = Path.Combine(_dir, "full"), split = Path.Combine(_dir, "split");
        var (code, _, stderr) = await CliRunner.RunAsync(["train", "--train", rows, .. Common(full, 2)]);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = await CliRunner.RunAsync(["train", "--train", rows, .. Common(split, 1)]);
        Assert.True(code == 0, stderr);
        (code, _, stderr) = await CliRunner.RunAsync(["train", "--train", rows, "--resume", split, .. Common(split, 2)]);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("step 1/4", stderr); // the first epoch is not run again
        Assert.Contains("step 4/4", stderr);
        using var a = SafeTensorsFile.Open(Path.Combine(full, "model.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(split, "model.safetensors"));
        foreach (string name in a.Tensors.Keys.Where(k => a.Tensors[k].DType == SafeTensorDType.F32))
            Assert.Equal(a.ReadFloat32(name), b.ReadFloat32(name));
    }

    [Fact]
    public async Task Push_to_hub_uploads_the_final_model_without_checkpoints()
    {
        using var hub = new FakeHub { WriteToken = "hf_w", GrantedToken = "hf_w" };
        var previous = TrainCommand.HubOptionsFactory;
        var options = new HubOptions
        {
            Endpoint = hub.Endpoint, Token = "hf_w", CacheDir = Path.Combine(_dir, "cache"),
            Timeout = TimeSpan.FromSeconds(5), RetryBaseDelay = TimeSpan.FromMilliseconds(5), MaxRetries = 1,
        };
        TrainCommand.HubOptionsFactory = () => options;
        try
        {
            string output = Path.Combine(_dir, "pushed");
            var (code, _, stderr) = await CliRunner.RunAsync(["train", "--train", WriteRows(), "--eval", WriteBeir(), "--push-to-hub", "me/tiny-ft", .. Common(output, 1)]);
            Assert.True(code == 0, stderr);
            Assert.Contains("pushed to me/tiny-ft", stderr);
            var files = hub.Repos["me/tiny-ft"].Commits[hub.Repos["me/tiny-ft"].Refs["main"]];
            Assert.Equal(File.ReadAllBytes(Path.Combine(output, "model.safetensors")), files["model.safetensors"]);
            Assert.Equal(File.ReadAllBytes(Path.Combine(output, "README.md")), files["README.md"]);
            Assert.Contains("# me/tiny-ft", System.Text.Encoding.UTF8.GetString(files["README.md"]));
            Assert.DoesNotContain(files.Keys, k => k.StartsWith("best/", StringComparison.Ordinal) || k.StartsWith("checkpoint-", StringComparison.Ordinal));
            var fromHub = SparseEncoder.Load("me/tiny-ft", new SparseEncoderOptions { Hub = options, Threads = 1 });
            Assert.Equal(32, fromHub.MaxSeqLength);
        }
        finally { TrainCommand.HubOptionsFactory = previous; }
    }

    [Fact]
    public async Task Bad_arguments_are_usage_errors()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("train", "--model", Model, "--output", Path.Combine(_dir, "x"));
        Assert.Equal(2, code);
        Assert.Contains("--train is required", stderr);
        (code, _, stderr) = await CliRunner.RunAsync(["train", "--train", WriteBeir(), "--eval", WriteBeir(), "--holdout", "0.3", .. Common(Path.Combine(_dir, "y"), 1)]);
        Assert.Equal(2, code);
        Assert.Contains("exclusive", stderr);
        (code, _, stderr) = await CliRunner.RunAsync(["train", "--train", WriteRows(), "--loss", "bogus", .. Common(Path.Combine(_dir, "z"), 1)]);
        Assert.Equal(2, code);
        Assert.Contains("--loss", stderr);
    }
}
