namespace Splade.Tokenization;

/// <summary>
/// A token of <c>tokenizer.json</c> <c>added_tokens</c> (special tokens such as [CLS] among them),
/// matched literally in the text before the model sees it.
/// </summary>
/// <param name="Id">Its id.</param>
/// <param name="Content">The literal text.</param>
/// <param name="SingleWord">Match only when not inside a word.</param>
/// <param name="LStrip">Also consume the whitespace on its left.</param>
/// <param name="RStrip">Also consume the whitespace on its right.</param>
/// <param name="Normalized">Match against the normalized text instead of the original.</param>
/// <param name="Special">Skipped by decoding with skipSpecialTokens.</param>
public sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special);
