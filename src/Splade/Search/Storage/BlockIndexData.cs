namespace Splade.Search.Storage;

/// <summary>
/// The block-max structures of one segment (Mallia et al., "Faster Learned Sparse Retrieval with
/// Block-Max Pruning", SIGIR 2024), built from its inverted file. Documents are grouped in fixed
/// blocks of <see cref="BlockSize"/> consecutive ordinals.
/// <list type="bullet">
/// <item>Block upper bounds, term-major: for term t and block b, ub(t, b) = ⌈255 · max_{d∈b} w_{t,d} / max_d w_{t,d}⌉
/// (a u8 rounded upward, so ub · termMax / 255 ≥ every weight of t in b). Terms present in at least a
/// fifth of the blocks keep a dense row of one byte per block (vectorised query bounds); the others
/// keep (block, ub) pairs.</item>
/// <item>A forward index per block: the block's distinct terms ascending ("pairs"), each with its
/// postings (document offset inside the block as a byte, value as a float), so that one block is
/// scored by looking up only the query's terms.</item>
/// </list>
/// </summary>
internal sealed class BlockIndexData
{
    /// <summary>A term with at least 1/DenseFraction of the blocks non-empty gets a dense row.</summary>
    public const int DenseFraction = 5;

    public int BlockSize { get; private init; }
    public int BlockCount { get; private init; }
    public int[] UbDenseRow { get; private init; } = [];         // [dimension] row in UbDense, or -1
    public byte[] UbDense { get; private init; } = [];           // [denseRows × BlockCount]
    public long[] UbSparseOffsets { get; private init; } = [];   // [dimension + 1] into UbSparseBlocks/Values
    public int[] UbSparseBlocks { get; private init; } = [];     // [sparse entries] ascending per term
    public byte[] UbSparseValues { get; private init; } = [];    // [sparse entries]
    public long[] BlockPairOffsets { get; private init; } = [];  // [BlockCount + 1] into PairTerms
    public int[] PairTerms { get; private init; } = [];          // [pairs] ascending within a block
    public int[] PairPostStart { get; private init; } = [];      // [pairs + 1] into FwdDocs/FwdValues
    public byte[] FwdDocs { get; private init; } = [];           // [postings] ordinal − block start
    public float[] FwdValues { get; private init; } = [];        // [postings]
    public int DenseRows { get; private init; }

    /// <summary>No block structures (block size 0): every section empty.</summary>
    public static BlockIndexData Empty { get; } = new() { BlockPairOffsets = [0], PairPostStart = [0] };

    /// <summary>Quantizes <paramref name="value"/> upward on the 255-step scale of <paramref name="termMax"/>.</summary>
    public static byte Quantize(float value, float termMax)
    {
        if (value <= 0f || termMax <= 0f) return 0;
        double q = Math.Ceiling(255.0 * value / termMax);
        return (byte)Math.Clamp(q, 1, 255);
    }

    /// <summary>Builds the structures from a segment's CSR postings and its per-term maxima.</summary>
    public static BlockIndexData Build(SegmentData data, float[] termMax, int blockSize)
    {
        if (blockSize < 1 || blockSize > 256) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "Block size must be in [1, 256].");
        int dim = data.Dimension, n = data.DocCount;
        int blocks = (n + blockSize - 1) / blockSize;
        long[] offsets = data.TermOffsets;
        int[] docs = data.PostDocs;
        float[] values = data.PostValues;

        // Pass 1: pairs and postings per block, non-empty blocks per term.
        var pairsPerBlock = new long[blocks + 1];
        var postsPerBlock = new long[blocks + 1];
        var blocksOfTerm = new int[dim];
        for (int t = 0; t < dim; t++)
        {
            int prev = -1;
            for (long p = offsets[t]; p < offsets[t + 1]; p++)
            {
                int b = docs[p] / blockSize;
                postsPerBlock[b + 1]++;
                if (b != prev) { pairsPerBlock[b + 1]++; blocksOfTerm[t]++; prev = b; }
            }
        }
        for (int b = 0; b < blocks; b++)
        {
            pairsPerBlock[b + 1] += pairsPerBlock[b];
            postsPerBlock[b + 1] += postsPerBlock[b];
        }
        long pairs = pairsPerBlock[blocks];
        if (pairs > int.MaxValue - 1) throw new InvalidOperationException($"A segment holds at most {int.MaxValue - 1} (term, block) pairs; got {pairs}.");

        // Pass 2: fill the forward index, terms ascending so each block's pair list is sorted.
        var pairTerms = new int[pairs];
        var pairPostStart = new int[pairs + 1];
        var fwdDocs = new byte[docs.Length];
        var fwdValues = new float[docs.Length];
        var pairCursor = (long[])pairsPerBlock.Clone();
        var postCursor = (long[])postsPerBlock.Clone();
        for (int t = 0; t < dim; t++)
        {
            int prev = -1;
            for (long p = offsets[t]; p < offsets[t + 1]; p++)
            {
                int d = docs[p], b = d / blockSize;
                long at = postCursor[b]++;
                if (b != prev)
                {
                    long pair = pairCursor[b]++;
                    pairTerms[pair] = t;
                    pairPostStart[pair] = (int)at;
                    prev = b;
                }
                fwdDocs[at] = (byte)(d - b * blockSize);
                fwdValues[at] = values[p];
            }
        }
        pairPostStart[pairs] = docs.Length;

        // Pass 3: quantized block maxima, dense rows for frequent terms.
        var denseRow = new int[dim];
        var sparseOffsets = new long[dim + 1];
        int denseRows = 0;
        for (int t = 0; t < dim; t++)
        {
            bool dense = blocks > 0 && (long)blocksOfTerm[t] * DenseFraction >= blocks;
            denseRow[t] = dense ? denseRows++ : -1;
            sparseOffsets[t + 1] = sparseOffsets[t] + (dense ? 0 : blocksOfTerm[t]);
        }
        var ubDense = new byte[(long)denseRows * blocks];
        var sparseBlocks = new int[sparseOffsets[dim]];
        var sparseValues = new byte[sparseOffsets[dim]];
        for (int t = 0; t < dim; t++)
        {
            long s = sparseOffsets[t];
            int prev = -1;
            float max = 0f;
            float scale = termMax[t];
            for (long p = offsets[t]; p <= offsets[t + 1]; p++)
            {
                int b = p < offsets[t + 1] ? docs[p] / blockSize : -2;
                if (b != prev && prev >= 0)
                {
                    byte q = Quantize(max, scale);
                    if (denseRow[t] >= 0) ubDense[(long)denseRow[t] * blocks + prev] = q;
                    else { sparseBlocks[s] = prev; sparseValues[s++] = q; }
                    max = 0f;
                }
                if (b < 0) break;
                prev = b;
                max = Math.Max(max, values[p]);
            }
        }
        return new BlockIndexData
        {
            BlockSize = blockSize, BlockCount = blocks, DenseRows = denseRows, UbDenseRow = denseRow, UbDense = ubDense,
            UbSparseOffsets = sparseOffsets, UbSparseBlocks = sparseBlocks, UbSparseValues = sparseValues,
            BlockPairOffsets = pairsPerBlock, PairTerms = pairTerms, PairPostStart = pairPostStart, FwdDocs = fwdDocs, FwdValues = fwdValues,
        };
    }
}
