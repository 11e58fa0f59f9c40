namespace Splade.Models;

/// <summary>
/// A batch of token-id sequences stored back to back without padding rows: sequence s is tokens
/// [Starts[s], Starts[s] + Lengths[s]). Equivalent to a right-padded [batch, length] input with an
/// attention mask of ones then zeros: padded positions never influence real ones (their keys get
/// −∞ scores and their rows are never read), so they are simply not computed.
/// </summary>
public sealed class TokenBatch
{
    private TokenBatch(int[] inputIds, int[] tokenTypeIds, int[] starts, int[] lengths)
    {
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds;
        Starts = starts;
        Lengths = lengths;
        MaxLength = lengths.Length == 0 ? 0 : lengths.Max();
    }

    /// <summary>All token ids, sequence after sequence [TokenCount].</summary>
    public int[] InputIds { get; }
    /// <summary>Token type (segment) ids, same layout as <see cref="InputIds"/>.</summary>
    public int[] TokenTypeIds { get; }
    /// <summary>First token of each sequence [SequenceCount].</summary>
    public int[] Starts { get; }
    /// <summary>Number of real tokens of each sequence [SequenceCount].</summary>
    public int[] Lengths { get; }
    /// <summary>Longest sequence.</summary>
    public int MaxLength { get; }
    /// <summary>Total number of real tokens.</summary>
    public int TokenCount => InputIds.Length;
    /// <summary>Number of sequences.</summary>
    public int SequenceCount => Starts.Length;

    /// <summary>Builds a batch from unpadded sequences, checking ids and lengths against the model's limits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, vocabSize).</exception>
    /// <exception cref="ArgumentException">A sequence is longer than <paramref name="maxPositions"/>.</exception>
    public static TokenBatch FromSequences(IReadOnlyList<int[]> sequences, int vocabSize, int maxPositions)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var starts = new int[sequences.Count];
        var lengths = new int[sequences.Count];
        int total = 0;
        for (int s = 0; s < sequences.Count; s++)
        {
            int[] ids = sequences[s] ?? throw new ArgumentNullException(nameof(sequences), $"Sequence {s} is null.");
            if (ids.Length > maxPositions)
                throw new ArgumentException($"Sequence {s} has {ids.Length} tokens, more than max_position_embeddings = {maxPositions}.", nameof(sequences));
            for (int i = 0; i < ids.Length; i++)
                if ((uint)ids[i] >= (uint)vocabSize)
                    throw new ArgumentOutOfRangeException(nameof(sequences), ids[i], $"Token id {ids[i]} at position {i} of sequence {s} is outside [0, {vocabSize}).");
            starts[s] = total;
            lengths[s] = ids.Length;
            total += ids.Length;
        }
        var all = new int[total];
        for (int s = 0; s < sequences.Count; s++) sequences[s].CopyTo(all, starts[s]);
        return new TokenBatch(all, new int[total], starts, lengths);
    }

    /// <summary>
    /// Builds a batch from a right-padded [batch, length] id matrix and its attention mask (1 = real,
    /// 0 = padding; ones must come first in every row).
    /// </summary>
    public static TokenBatch FromPadded(ReadOnlySpan<int> inputIds, ReadOnlySpan<int> attentionMask, int batch, int length, int vocabSize, int maxPositions)
    {
        if (inputIds.Length != batch * length || attentionMask.Length != batch * length)
            throw new ArgumentException($"input_ids and attention_mask must both hold {batch}x{length} values.");
        var sequences = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<int> mask = attentionMask.Slice(b * length, length);
            int real = 0;
            while (real < length && mask[real] != 0) real++;
            for (int i = real; i < length; i++)
                if (mask[i] != 0) throw new ArgumentException($"attention_mask row {b} is not right-padded (1 after 0 at position {i}).", nameof(attentionMask));
            sequences[b] = inputIds.Slice(b * length, real).ToArray();
        }
        return FromSequences(sequences, vocabSize, maxPositions);
    }
}
