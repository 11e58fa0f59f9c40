namespace Splade.Models;

/// <summary>
/// Activation buffers of one forward pass, sized for a number of tokens and sequences and reused
/// for every later batch that fits (grown only when a larger batch arrives).
/// </summary>
public sealed class BertWorkspace
{
    private readonly BertConfig _config;

    /// <summary>Creates an empty workspace for <paramref name="config"/>.</summary>
    public BertWorkspace(BertConfig config) => _config = config;

    /// <summary>Hidden states [tokens, hidden].</summary>
    public float[] Hidden { get; private set; } = [];
    /// <summary>Fused query/key/value projections [tokens, 3·hidden].</summary>
    public float[] Qkv { get; private set; } = [];
    /// <summary>Attention context, later the MLM transform output [tokens, hidden].</summary>
    public float[] Context { get; private set; } = [];
    /// <summary>Attention output after its LayerNorm [tokens, hidden].</summary>
    public float[] Attention { get; private set; } = [];
    /// <summary>Feed-forward activations [tokens, intermediate].</summary>
    public float[] Intermediate { get; private set; } = [];
    /// <summary>One score row per (sequence, head) job [sequences·heads, maxLength].</summary>
    public float[] Scores { get; private set; } = [];
    /// <summary>Pooled vocabulary rows [sequences, vocab].</summary>
    public float[] Pooled { get; private set; } = [];

    /// <summary>Token capacity of the buffers.</summary>
    public int TokenCapacity { get; private set; }

    /// <summary>Grows the buffers so that <paramref name="batch"/> fits.</summary>
    public void EnsureCapacity(TokenBatch batch, bool pooled)
    {
        int tokens = batch.TokenCount, h = _config.HiddenSize;
        if (tokens > TokenCapacity)
        {
            TokenCapacity = tokens;
            Hidden = new float[tokens * h];
            Qkv = new float[tokens * 3 * h];
            Context = new float[tokens * h];
            Attention = new float[tokens * h];
            Intermediate = new float[tokens * _config.IntermediateSize];
        }
        int scores = batch.SequenceCount * _config.NumAttentionHeads * batch.MaxLength;
        if (scores > Scores.Length) Scores = new float[scores];
        if (pooled && batch.SequenceCount * _config.VocabSize > Pooled.Length) Pooled = new float[batch.SequenceCount * _config.VocabSize];
    }
}
