using Splade.Search;
using Splade.Tests.Models;

namespace Splade.Tests.Fuzz;

/// <summary>BM25 statistics and term vocabularies (the lexical baseline's files) load or fail with an <see cref="InvalidDataException"/> naming the file.</summary>
public sealed class LexicalFilesFuzzTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Corpus = ["the cat sat on the mat", "a dog and a cat", "naïve café, ÉTÉ 2024", "x"];

    [Fact]
    public void Valid_files_round_trip_and_mutations_fail_with_the_file_named()
    {
        var vocab = TermVocabulary.Build(Corpus);
        var stats = Bm25Statistics.Fit(Corpus, vocab.Tokenize, 40);
        string vocabPath = _dir.File("vocab.json"), statsPath = _dir.File("bm25.json");
        vocab.Save(vocabPath);
        stats.Save(statsPath);
        var vocabAgain = TermVocabulary.Load(vocabPath);
        var statsAgain = Bm25Statistics.Load(statsPath);
        foreach (string t in Corpus) Assert.Equal(vocab.Tokenize(t), vocabAgain.Tokenize(t));
        Assert.Equal(stats.DocumentFrequency, statsAgain.DocumentFrequency);
        Assert.Equal(stats.AverageLength, statsAgain.AverageLength);
        Assert.Equal(stats.DocumentCount, statsAgain.DocumentCount);

        string vocabText = File.ReadAllText(vocabPath), statsText = File.ReadAllText(statsPath);
        FuzzRunner.Run("lexical files", 91, FuzzRunner.Iterations(800), (r, _) =>
        {
            bool isStats = r.Next(2) == 0;
            return (IsStats: isStats, Mutant: Mutate.Any(r, isStats ? statsText : vocabText));
        }, c => $"{(c.IsStats ? "bm25" : "vocab")}: {c.Mutant.What} -> {FuzzRunner.Show(c.Mutant.Data)}", c =>
        {
            string path = c.IsStats ? statsPath : vocabPath;
            File.WriteAllBytes(path, c.Mutant.Data);
            FuzzRunner.ParsesOrThrows<InvalidDataException>(() =>
            {
                if (!c.IsStats)
                {
                    TermVocabulary.Load(path).Tokenize("the cat naïve");
                    return;
                }
                var s = Bm25Statistics.Load(path);
                var encoder = new Bm25Encoder(s, _ => [0, 1, 2]);
                var v = encoder.EncodeDocuments(["a"])[0];
                if (v.Values.ToArray().Any(x => !float.IsFinite(x))) throw new FuzzAssertionException("non-finite BM25 weight");
            }, e => e.Message.Contains(path, StringComparison.Ordinal) ? null : $"expected the file {path}");
        });
    }
}
