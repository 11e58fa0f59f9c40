namespace Splade.Tests.Encoder;

public sealed class TokenBudgetBatchingTests
{
    [Fact]
    public void Batches_close_at_the_token_budget_or_the_text_count()
    {
        int[][] ids = [new int[50], new int[30], new int[30], new int[10], new int[10], new int[10], new int[5]];
        int[] order = [0, 1, 2, 3, 4, 5, 6]; // already longest first
        var ends = new List<int>();
        for (int start = 0, end; start < order.Length; start = end)
        {
            end = SparseEncoder.BatchEnd(ids, order, start, maxTexts: 3, maxTokens: 60);
            ends.Add(end);
        }
        // [50] (50 + 30 > 60), [30, 30], [10, 10, 10] (count limit), [5]
        Assert.Equal([1, 3, 6, 7], ends);
        // A text longer than the budget still runs, alone.
        Assert.Equal(1, SparseEncoder.BatchEnd(ids, order, 0, maxTexts: 32, maxTokens: 20));
    }

    [Fact]
    public void Token_budget_batches_equal_one_by_one_bit_for_bit()
    {
        var expected = Models.ExpectedOutputs.Load(TestData.Model("tiny-splade.expected.json"));
        var texts = expected.Texts.Select(t => t.Text).ToArray();
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"), new SparseEncoderOptions { Threads = 2 });
        var budgeted = encoder.Encode(texts, new EncodeOptions { BatchSize = 1000, MaxBatchTokens = 24 });
        var counted = encoder.Encode(texts, new EncodeOptions { BatchSize = 3 });
        for (int i = 0; i < texts.Length; i++)
        {
            var single = encoder.Encode([texts[i]])[0];
            Assert.Equal(single.Indices.ToArray(), budgeted[i].Indices.ToArray());
            Assert.Equal(single.Values.ToArray(), budgeted[i].Values.ToArray());
            Assert.Equal(single.Values.ToArray(), counted[i].Values.ToArray());
        }
    }
}
