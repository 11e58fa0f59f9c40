namespace Splade.Tokenization;

/// <summary>
/// Hugging Face <c>TemplateProcessing</c> (and <c>BertProcessing</c>, its fixed special case):
/// where special tokens go around sequence A (and B), and the type id of each part.
/// </summary>
internal sealed class TemplatePostProcessor
{
    /// <summary>One part of a template: a special token (Id set) or a sequence (IsSequenceB tells which).</summary>
    internal readonly record struct Part(bool IsSpecial, int[] SpecialIds, bool IsSequenceB, int TypeId);

    public TemplatePostProcessor(Part[] single, Part[] pair)
    {
        Single = single;
        Pair = pair;
        SingleAdded = single.Where(p => p.IsSpecial).Sum(p => p.SpecialIds.Length);
        PairAdded = pair.Where(p => p.IsSpecial).Sum(p => p.SpecialIds.Length);
    }

    public Part[] Single { get; }
    public Part[] Pair { get; }

    /// <summary>Number of special tokens added to a single sequence.</summary>
    public int SingleAdded { get; }

    /// <summary>Number of special tokens added to a pair.</summary>
    public int PairAdded { get; }

    /// <summary>No special tokens at all (a tokenizer.json without post-processor).</summary>
    public static TemplatePostProcessor None { get; } = new(
        [new Part(false, [], false, 0)],
        [new Part(false, [], false, 0), new Part(false, [], true, 1)]);

    /// <summary>The BERT template: [CLS] $A [SEP] and [CLS] $A [SEP] $B:1 [SEP]:1.</summary>
    public static TemplatePostProcessor Bert(int clsId, int sepId) => new(
        [new Part(true, [clsId], false, 0), new Part(false, [], false, 0), new Part(true, [sepId], false, 0)],
        [new Part(true, [clsId], false, 0), new Part(false, [], false, 0), new Part(true, [sepId], false, 0),
         new Part(false, [], true, 1), new Part(true, [sepId], false, 1)]);
}
