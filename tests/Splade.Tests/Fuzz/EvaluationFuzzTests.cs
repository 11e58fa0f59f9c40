using System.Text;
using System.Text.RegularExpressions;
using Splade.Evaluation;
using Splade.Search;
using Splade.Tests.Models;

namespace Splade.Tests.Fuzz;

/// <summary>
/// BEIR folders, TREC qrels and TREC runs: mutated files load, or fail with an
/// <see cref="InvalidDataException"/> naming the file (and the line, for line errors). Written
/// qrels and runs read back identically.
/// </summary>
public sealed class EvaluationFuzzTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Adi(string file) => Path.Combine(TestData.Dir, "ir", "adi", file);

    private static string Head(string file, int lines) => string.Join("\n", File.ReadLines(Adi(file)).Take(lines)) + "\n";

    /// <summary>The message names the file; when it points at a line, that line exists.</summary>
    private static string? Located(InvalidDataException e, string path, byte[] bytes)
    {
        if (!e.Message.Contains(path, StringComparison.Ordinal)) return $"expected the file {path}";
        var m = Regex.Match(e.Message, Regex.Escape(path) + @":(\d+):");
        if (!m.Success) return null;
        int line = int.Parse(m.Groups[1].Value);
        // Counted as File.ReadLines counts them: "\r\n", "\r" and "\n" each end a line.
        int lines = Encoding.UTF8.GetString(bytes).Replace("\r\n", "\n").Split('\r', '\n').Length;
        return line >= 1 && line <= lines ? null : $"line {line} of {lines}";
    }

    [Fact]
    public void Mutated_beir_folders_load_or_fail_with_file_and_line()
    {
        string folder = Path.Combine(_dir.Path, "beir");
        Directory.CreateDirectory(Path.Combine(folder, "qrels"));
        var originals = new Dictionary<string, string>
        {
            ["corpus.jsonl"] = Head("corpus.jsonl", 6),
            ["queries.jsonl"] = Head("queries.jsonl", 5),
            ["qrels/test.tsv"] = Head("qrels/test.tsv", 12),
        };
        foreach (var (f, t) in originals) File.WriteAllText(Path.Combine(folder, f), t);
        var clean = IrDataset.LoadBeir(folder);
        Assert.Equal(6, clean.Corpus.Count);
        Assert.Equal(5, clean.Queries.Count);
        string[] files = originals.Keys.ToArray();
        FuzzRunner.Run("beir", 61, FuzzRunner.Iterations(800), (r, _) =>
        {
            string file = files[r.Next(files.Length)];
            Mutant m = file.EndsWith(".tsv", StringComparison.Ordinal) ? Mutate.Bytes(r, Encoding.UTF8.GetBytes(originals[file])) : MutateLine(r, originals[file]);
            return (File: file, Mutant: m);
        }, c => $"{c.File}: {c.Mutant.What} -> {FuzzRunner.Show(c.Mutant.Data)}", c =>
        {
            string path = Path.Combine(folder, c.File);
            File.WriteAllBytes(path, c.Mutant.Data);
            try
            {
                FuzzRunner.ParsesOrThrows<InvalidDataException>(() =>
                {
                    var ds = IrDataset.LoadBeir(folder);
                    if (ds.Qrels.Values.SelectMany(d => d.Values).Any(g => g <= 0)) throw new FuzzAssertionException("a grade <= 0 was kept");
                }, e => Located(e, path, c.Mutant.Data));
            }
            finally
            {
                File.WriteAllText(path, originals[c.File]);
            }
        });
    }

    private static Mutant MutateLine(Random r, string text)
    {
        if (r.Next(3) == 0) return Mutate.Bytes(r, Encoding.UTF8.GetBytes(text));
        string[] lines = text.Split('\n');
        int k = r.Next(lines.Length - 1);
        Mutant m = Mutate.Json(r, lines[k]);
        lines[k] = m.Text;
        return new Mutant(Encoding.UTF8.GetBytes(string.Join("\n", lines)), $"line {k + 1}: {m.What}");
    }

    [Fact]
    public void Mutated_trec_qrels_and_runs_read_or_fail_with_file_and_line()
    {
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>
        {
            ["q1"] = new Dictionary<string, int> { ["d1"] = 1, ["d2"] = 3 },
            ["q2"] = new Dictionary<string, int> { ["d9"] = 2 },
        };
        var qrelsText = new StringWriter();
        TrecFiles.WriteTrecQrels(qrelsText, qrels);
        var run = new List<KeyValuePair<string, IReadOnlyList<SearchHit>>>
        {
            new("q1", [new SearchHit("d1", 2.5f), new SearchHit("d7", 1e-30f), new SearchHit("d2", -0.125f)]),
            new("q2", [new SearchHit("d9", 3.4028235e38f)]),
        };
        var runText = new StringWriter();
        TrecFiles.WriteRun(runText, run);
        string qrelsPath = _dir.File("qrels.txt"), runPath = _dir.File("run.txt");

        File.WriteAllText(qrelsPath, qrelsText.ToString());
        var readQrels = TrecFiles.ReadTrecQrels(qrelsPath);
        Assert.Equal(qrels.Keys.Order(), readQrels.Keys.Order());
        foreach (var (q, d) in qrels) Assert.Equal(d.OrderBy(p => p.Key), readQrels[q].OrderBy(p => p.Key));
        File.WriteAllText(runPath, runText.ToString());
        var readRun = TrecFiles.ReadRun(runPath);
        foreach (var (q, hits) in run) Assert.Equal(hits, readRun[q]);

        FuzzRunner.Run("trec", 62, FuzzRunner.Iterations(800), (r, _) =>
        {
            bool isRun = r.Next(2) == 0;
            return (IsRun: isRun, Mutant: Mutate.Bytes(r, Encoding.UTF8.GetBytes(isRun ? runText.ToString() : qrelsText.ToString())));
        }, c => $"{(c.IsRun ? "run" : "qrels")}: {c.Mutant.What} -> {FuzzRunner.Show(c.Mutant.Data)}", c =>
        {
            string path = c.IsRun ? runPath : qrelsPath;
            File.WriteAllBytes(path, c.Mutant.Data);
            FuzzRunner.ParsesOrThrows<InvalidDataException>(() =>
            {
                if (c.IsRun)
                {
                    if (TrecFiles.ReadRun(path).Values.SelectMany(h => h).Any(h => !float.IsFinite(h.Score))) throw new FuzzAssertionException("a non-finite score was accepted");
                }
                else TrecFiles.ReadTrecQrels(path);
            }, e => Located(e, path, c.Mutant.Data));
        });
    }
}
