using System.Text.Json;
using Splade.Search;
using Splade.Tests.Cli;
using Splade.Tests.Search;
using Splade.Tests.Training;
using Splade.Training;
using Splade.Training.Checkpoint;
using Splade.Training.Data;
using Splade.Training.Optim;
using Xunit.Abstractions;

namespace Splade.Tests.Faults;

/// <summary>
/// Writes that hit a really full device: /dev/full (every write fails with ENOSPC) where present, and a
/// small tmpfs mounted by the test where mounting is permitted (skipped with a SKIPPED note elsewhere).
/// `splade encode --output` and `--resume`, `splade index` and training checkpoints: the error names the
/// file, what was already complete stays complete, and a rerun with space finishes the job.
/// </summary>
public sealed class RealDiskFullTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string Model = TestData.Model("tiny-splade");
    private readonly TempDirectory _dir = new("splade-diskfull");

    public void Dispose() => _dir.Dispose();

    private string Input(int count)
    {
        string path = _dir.Sub("input.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, count).Select(i =>
            JsonSerializer.Serialize(new { id = $"t{i}", text = $"document number {i} about " + string.Join(' ', Enumerable.Range(0, 20 + i % 17).Select(j => $"word{(i * 7 + j) % 97}")) })));
        return path;
    }

    [Fact]
    public async Task Encode_to_a_device_that_is_full_fails_naming_the_file()
    {
        if (!File.Exists("/dev/full")) { output.WriteLine("SKIPPED: no /dev/full"); return; }
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", Input(20), "--output", "/dev/full");
        output.WriteLine(stderr);
        Assert.Equal(1, code);
        Assert.Contains("could not write '/dev/full' (the disk is full", stderr);
        Assert.Contains("--resume", stderr);
    }

    [Fact]
    public async Task Encode_on_a_full_file_system_resumes_to_the_same_output_as_one_run()
    {
        using var disk = SmallDisk.TryMount(16 * 1024, out string why);
        if (disk is null) { output.WriteLine($"SKIPPED: {why}"); return; }
        string input = Input(120);
        string reference = _dir.Sub("reference.jsonl");
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", reference, "--batch-size", "16");
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(reference).Length > 48 * 1024, "the output must not fit the small disk");

        string outPath = disk.Sub("out.jsonl");
        (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", outPath, "--resume", "--batch-size", "16");
        output.WriteLine(stderr);
        Assert.Equal(1, code);
        Assert.Contains($"could not write '{outPath}' (the disk is full", stderr);
        disk.Grow(8 << 20);
        (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", outPath, "--resume", "--batch-size", "16");
        Assert.True(code == 0, stderr);
        output.WriteLine(stderr);
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(outPath));
    }

    [Fact]
    public async Task Index_on_a_full_file_system_keeps_its_last_commit_and_a_rerun_completes()
    {
        using var disk = SmallDisk.TryMount(256 * 1024, out string why);
        if (disk is null) { output.WriteLine($"SKIPPED: {why}"); return; }
        var docs = new SyntheticSparseData(5, 2000).Documents(3000, 25);
        string vectors = _dir.Sub("v.jsonl");
        File.WriteAllLines(vectors, docs.Select(d => JsonSerializer.Serialize(new { id = d.Id, indices = d.Vector.Indices.ToArray(), values = d.Vector.Values.ToArray() })));
        string index = disk.Sub("index");
        var (code, _, stderr) = await CliRunner.RunAsync("index", "--vectors", vectors, "--dimension", "2000", "--index", index, "--commit-every", "500", "--no-text");
        output.WriteLine(stderr);
        Assert.Equal(1, code);
        Assert.Contains("the disk is full", stderr);
        Assert.Contains($"'{index}/seg_", stderr);
        Assert.Contains("nothing committed was lost", stderr);
        var (checkCode, checkOut, _) = await CliRunner.RunAsync("index", "--check", index);
        Assert.True(checkCode == 0, checkOut);
        long committed;
        using (var reader = InvertedIndex.Open(index, new InvertedIndexOptions { ReadOnly = true }))
        {
            committed = reader.Count;
            Assert.True(committed > 0 && committed % 500 == 0, $"{committed} documents committed");
            var prefix = docs.Take((int)committed).ToList();
            SearchAssert.Identical(BruteForceSearch.Search(prefix, docs[3].Vector, 10), reader.Search(docs[3].Vector, 10), "last commit");
        }
        disk.Grow(16 << 20);
        (code, _, stderr) = await CliRunner.RunAsync("index", "--vectors", vectors, "--dimension", "2000", "--index", index, "--commit-every", "500", "--no-text");
        Assert.True(code == 0, stderr);
        Assert.Contains($"{committed} already indexed", stderr);
        using var done = InvertedIndex.Open(index, new InvertedIndexOptions { ReadOnly = true });
        Assert.Equal(docs.Count, done.Count);
        SearchAssert.Identical(BruteForceSearch.Search(docs, docs[3].Vector, 10), done.Search(docs[3].Vector, 10), "after the rerun");
    }

    [Fact]
    public void Training_checkpoint_on_a_full_file_system_keeps_the_previous_one_and_resumes_to_the_same_weights()
    {
        using var disk = SmallDisk.TryMount(20 << 20, out string why);
        if (disk is null) { output.WriteLine($"SKIPPED: {why}"); return; }
        var fx = TrainingFixture.Load();
        var rows = Enumerable.Range(0, 4).Select(i => new TrainingRow(fx.QueryTexts[i], fx.DocumentTexts[i], [fx.DocumentTexts[4 + i]])).ToList();
        SpladeTrainingOptions Options(string outDir) => new()
        {
            OutputDir = outDir, BatchSize = 4, Epochs = 2, LearningRate = 1e-3, WeightDecay = 0.01,
            Schedule = LearningRateScheduleKind.Constant, MaxGradNorm = null, RegularizerWarmup = false, Dropout = false,
        };
        var uninterrupted = new SpladeTrainer(fx.ModelDir, Options(_dir.Sub("full")), t => fx.IdsByText[t]);
        uninterrupted.Train(rows);

        // One checkpoint (model, optimizer moments, trainer state: about 13 MB) fits; the second does not.
        string outDir = disk.Sub("run");
        var trainer = new SpladeTrainer(fx.ModelDir, Options(outDir), t => fx.IdsByText[t]);
        var e = Assert.ThrowsAny<IOException>(() => { trainer.Train(rows); });
        output.WriteLine(e.Message);
        string last = Path.Combine(outDir, "checkpoint-last");
        Assert.Contains($"Could not write checkpoint '{last}' (the disk is full", e.Message);
        Assert.Contains("previous checkpoint", e.Message);
        Assert.False(Directory.Exists(last + ".partial"));
        Assert.Equal(1, SpladeCheckpoint.LoadTrainerState(last).GlobalStep);

        disk.Grow(64 << 20);
        var resumed = new SpladeTrainer(fx.ModelDir, Options(outDir), t => fx.IdsByText[t]);
        resumed.Train(rows, resumeFrom: last);
        Assert.Equal(uninterrupted.Optimizer.Step, resumed.Optimizer.Step);
        foreach (var t in uninterrupted.Parameters.All)
            Assert.Equal(t.Data, resumed.Parameters.Find(t.Name)!.Data);
    }

    [Fact]
    public void A_checkpoint_replacement_cut_off_between_its_renames_resumes_from_the_previous_folder()
    {
        string dir = _dir.Sub("checkpoint-last");
        SpladeCheckpoint.ReplaceFolder(dir, d => File.WriteAllText(Path.Combine(d, "trainer_state.json"), "{}"));
        Directory.Move(dir, dir + ".old");   // the state between the two renames
        Assert.Equal(dir + ".old", SpladeCheckpoint.ResolveResumable(dir));
        SpladeCheckpoint.ReplaceFolder(dir, d => File.WriteAllText(Path.Combine(d, "trainer_state.json"), "{\"x\":1}"));
        Assert.Equal(dir, SpladeCheckpoint.ResolveResumable(dir));
        Assert.False(Directory.Exists(dir + ".old"));
        // A failing writer leaves the previous folder as it was.
        Assert.ThrowsAny<IOException>(() => SpladeCheckpoint.ReplaceFolder(dir, _ => throw new IOException("No space left on device", 28)));
        Assert.Equal("{\"x\":1}", File.ReadAllText(Path.Combine(dir, "trainer_state.json")));
        Assert.False(Directory.Exists(dir + ".partial"));
    }
}
