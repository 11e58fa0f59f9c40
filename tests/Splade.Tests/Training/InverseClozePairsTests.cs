using Splade.Evaluation;
using Splade.Training.Data;

namespace Splade.Tests.Training;

/// <summary>Inverse cloze pairs: what is the query, what is left as the positive, and that the draw is seeded.</summary>
public sealed class InverseClozePairsTests
{
    private static List<CorpusDocument> Adi() => IrDataset.ReadCorpus(TestData.Path_("ir", "adi", "corpus.jsonl"));

    [Fact]
    public void Title_queries_leave_the_text_and_sentence_queries_are_cut_out()
    {
        var corpus = Adi();
        var result = InverseClozePairs.Make(corpus, new InverseClozeOptions { KeepProbability = 0 });
        Assert.Equal(corpus.Count, result.Rows.Count + result.SkippedDocuments);
        Assert.Contains(PseudoQueryKind.Title, result.Kinds);
        Assert.Contains(PseudoQueryKind.Sentence, result.Kinds);
        for (int i = 0; i < result.Rows.Count; i++)
        {
            var row = result.Rows[i];
            var doc = corpus.First(d => Norm(d.FullText).Contains(row.Query, StringComparison.Ordinal) || Norm(d.Title) == row.Query);
            Assert.True(row.Query.Split(' ').Length >= 4, row.Query);
            Assert.True(row.Positive.Split(' ').Length >= 8, row.Positive);
            Assert.Empty(row.Negatives);
            if (result.Kinds[i] == PseudoQueryKind.Title)
            {
                Assert.Equal(Norm(doc.Title), row.Query);
                Assert.Equal(Norm(doc.Text), row.Positive);
            }
            else
            {
                Assert.DoesNotContain(row.Query, row.Positive, StringComparison.Ordinal);
                Assert.StartsWith(Norm(doc.Title), row.Positive, StringComparison.Ordinal);
            }
        }
    }

    private static string Norm(string s) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void Repeated_titles_unpunctuated_texts_and_short_documents()
    {
        var corpus = new List<CorpusDocument>
        {
            // Cranfield repeats its title at the start of the text.
            new("1", "flow past a heated flat plate", "flow past a heated flat plate . the laminar boundary layer on a heated plate is computed for several wall temperatures and mach numbers."),
            // NPL: no punctuation at all.
            new("2", "", "compact memories have flexible capacities a digital data storage system with capacity up to bits and random and or sequential access is described"),
            new("3", "", "too short to split"),
        };
        var result = InverseClozePairs.Make(corpus, new InverseClozeOptions { TitleProbability = 1, KeepProbability = 0 });
        Assert.Equal(2, result.Rows.Count);
        Assert.Equal(1, result.SkippedDocuments);
        Assert.Equal(PseudoQueryKind.Title, result.Kinds[0]);
        Assert.Equal("flow past a heated flat plate", result.Rows[0].Query);
        Assert.StartsWith("the laminar boundary layer", result.Rows[0].Positive, StringComparison.Ordinal);
        Assert.Equal(PseudoQueryKind.Window, result.Kinds[1]);
        var words = corpus[1].Text.Split(' ');
        int n = result.Rows[1].Query.Split(' ').Length;
        Assert.InRange(n, 6, 16);
        Assert.Contains(result.Rows[1].Query, corpus[1].Text, StringComparison.Ordinal);
        Assert.Equal(words.Length - n, result.Rows[1].Positive.Split(' ').Length);
    }

    [Fact]
    public void Seeded_negatives_are_other_documents_and_max_pairs_caps()
    {
        var corpus = Adi();
        var a = InverseClozePairs.Make(corpus, new InverseClozeOptions { Negatives = 2, Seed = 7, MaxPairs = 20 });
        var b = InverseClozePairs.Make(corpus, new InverseClozeOptions { Negatives = 2, Seed = 7, MaxPairs = 20 });
        var c = InverseClozePairs.Make(corpus, new InverseClozeOptions { Negatives = 2, Seed = 8, MaxPairs = 20 });
        Assert.Equal(20, a.Rows.Count);
        Assert.Equal(a.Rows.Select(r => string.Join("|", r.Texts())), b.Rows.Select(r => string.Join("|", r.Texts())));
        Assert.NotEqual(a.Rows.Select(r => string.Join("|", r.Texts())), c.Rows.Select(r => string.Join("|", r.Texts())));
        var full = corpus.Select(d => d.FullText.Trim()).ToHashSet();
        foreach (var r in a.Rows)
        {
            Assert.Equal(2, r.Negatives.Distinct().Count());
            Assert.All(r.Negatives, n => Assert.Contains(n, full));
            Assert.All(r.Negatives, n => Assert.DoesNotContain(r.Query, n, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Bad_options_throw()
    {
        var corpus = Adi();
        Assert.Throws<ArgumentOutOfRangeException>(() => InverseClozePairs.Make(corpus, new InverseClozeOptions { TitleProbability = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => InverseClozePairs.Make(corpus, new InverseClozeOptions { WindowWords = (5, 2) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => InverseClozePairs.Make(corpus, new InverseClozeOptions { MaxPairs = 0 }));
        Assert.Throws<ArgumentException>(() => InverseClozePairs.Make(corpus.Take(2).ToList(), new InverseClozeOptions { Negatives = 2 }));
    }
}
