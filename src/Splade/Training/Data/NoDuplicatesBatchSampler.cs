namespace Splade.Training.Data;

/// <summary>
/// "No duplicates" batches as sentence-transformers' NoDuplicatesBatchSampler: rows are shuffled (seed + epoch),
/// then each batch takes, in order, every remaining row none of whose texts already appears in the batch;
/// a row that clashes is deferred to a later batch. The last batch may be smaller (or dropped).
/// </summary>
public static class NoDuplicatesBatchSampler
{
    public static List<int[]> Batches(IReadOnlyList<TrainingRow> rows, int batchSize, int seed, int epoch = 0, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be ≥ 1.");
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(unchecked(seed + epoch)).Shuffle(order);
        var remaining = new LinkedList<int>(order);
        var batches = new List<int[]>();
        while (remaining.Count > 0)
        {
            var texts = new HashSet<string>(StringComparer.Ordinal);
            var batch = new List<LinkedListNode<int>>();
            for (var node = remaining.First; node is not null && batch.Count < batchSize; node = node.Next)
            {
                var rowTexts = rows[node.Value].Texts().ToArray();
                if (rowTexts.Any(texts.Contains)) continue;
                batch.Add(node);
                foreach (var t in rowTexts) texts.Add(t);
            }
            foreach (var n in batch) remaining.Remove(n);
            if (batch.Count == batchSize || !dropLast) batches.Add(batch.Select(n => n.Value).ToArray());
        }
        return batches;
    }
}
