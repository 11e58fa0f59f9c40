namespace Splade.Tokenization;

/// <summary>
/// How the Hugging Face BERT normalizer and pre-tokenizer treat one code point
/// (before the CJK rule, which is a fixed set of ranges, see <see cref="BertCharTables.IsChineseChar"/>).
/// </summary>
internal enum BertCharClass : byte
{
    /// <summary>Part of a word.</summary>
    Normal = 0,

    /// <summary>Removed by <c>clean_text</c>: the Rust crate's Cc, Cf and Co (tab, LF and CR excepted).</summary>
    Control = 1,

    /// <summary>Rust <c>char::is_whitespace</c> (plus tab, LF, CR): mapped to a space and split on.</summary>
    Whitespace = 2,

    /// <summary>ASCII punctuation or the Rust crate's P*: isolated as a word of its own.</summary>
    Punctuation = 3,
}
