namespace Splade.Tokenization;

/// <summary>How accents are stripped (Hugging Face <c>strip_accents</c>: <c>null</c>, <c>true</c> or <c>false</c>).</summary>
public enum AccentStripping
{
    /// <summary><c>strip_accents: null</c>: strip exactly when lower-casing is on.</summary>
    FollowLowerCase,

    /// <summary><c>strip_accents: true</c>: NFD, then drop non-spacing marks (Mn).</summary>
    Strip,

    /// <summary><c>strip_accents: false</c>: keep accents.</summary>
    Keep,
}

/// <summary>
/// Settings of a BERT tokenizer. Every property is optional: null means "not given", so that the same
/// type serves as the options of <see cref="BertTokenizer.FromVocabFile"/> (where the defaults of
/// Hugging Face <c>BertTokenizerFast</c> apply) and as overrides of a <c>tokenizer.json</c>.
/// </summary>
public sealed record BertTokenizerOptions
{
    /// <summary><c>do_lower_case</c> / normalizer <c>lowercase</c> (default true).</summary>
    public bool? DoLowerCase { get; init; }

    /// <summary><c>strip_accents</c> (default <see cref="AccentStripping.FollowLowerCase"/>).</summary>
    public AccentStripping? StripAccents { get; init; }

    /// <summary><c>tokenize_chinese_chars</c> / normalizer <c>handle_chinese_chars</c> (default true).</summary>
    public bool? TokenizeChineseChars { get; init; }

    /// <summary>Normalizer <c>clean_text</c> (default true).</summary>
    public bool? CleanText { get; init; }

    /// <summary><c>model_max_length</c> of <c>tokenizer_config.json</c> (default: none).</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>
    /// transformers' <c>clean_up_tokenization_spaces</c>: after decoding, remove spaces before
    /// punctuation and contractions in the whole string (default false).
    /// </summary>
    public bool? CleanUpTokenizationSpaces { get; init; }

    /// <summary>WordPiece <c>max_input_chars_per_word</c>, counted in Unicode scalar values (default 100).</summary>
    public int? MaxInputCharsPerWord { get; init; }
}
