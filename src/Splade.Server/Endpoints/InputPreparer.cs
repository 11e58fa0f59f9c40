using Microsoft.AspNetCore.Http;
using Splade.Server.Http;

namespace Splade.Server.Endpoints;

/// <summary>Which end of an over-long input TEI's <c>truncation_direction</c> cuts.</summary>
internal enum TruncationDirection
{
    Right,
    Left,
}

/// <summary>
/// Turns request texts into the token ids the network sees, with TEI's validation: empty strings
/// and inputs longer than <c>max_input_length</c> tokens (or 250 characters per token) are
/// rejected unless <c>truncate</c> is set. Texts go through the same steps as
/// <see cref="SparseEncoder.Tokenize"/> (prompt prepended, surrounding whitespace stripped,
/// lower-cased when the checkpoint says so), so the ids equal the encoder's.
/// </summary>
internal sealed class InputPreparer
{
    /// <summary>TEI's MAX_CHAR_MULTIPLIER: inputs over 250 characters per allowed token are refused before tokenizing.</summary>
    private const int MaxCharsPerToken = 250;

    private readonly SparseEncoder _encoder;

    public InputPreparer(SparseEncoder encoder, int? maxInputLength)
    {
        _encoder = encoder;
        MaxInputLength = Math.Min(maxInputLength ?? encoder.MaxSeqLength, encoder.MaxSeqLength);
    }

    /// <summary>Longest accepted sequence in tokens, special tokens included.</summary>
    public int MaxInputLength { get; }

    /// <summary>Route of a role: <c>query</c> for queries, <c>document</c> otherwise.</summary>
    public static string RouteOf(string? role) => role == "query" ? "query" : "document";

    /// <summary>
    /// The prompt text for a request: <paramref name="promptName"/> when given, else the role's prompt
    /// (<c>encode_query</c> / <c>encode_document</c>), else none, as TEI does without a default prompt.
    /// </summary>
    public string ResolvePrompt(string? promptName, string? role)
    {
        if (promptName is not null)
        {
            if (!_encoder.Prompts.TryGetValue(promptName, out var p))
                throw new ApiException(ErrorType.Validation,
                    $"`prompt_name` is `{promptName}` but it was not found in the Sentence Transformers prompts. Available prompts: [{string.Join(", ", _encoder.Prompts.Keys)}]");
            return p;
        }
        string? name = role switch
        {
            "query" => _encoder.QueryPromptName,
            "document" => _encoder.DocumentPromptName,
            _ => null,
        };
        return name is not null && _encoder.Prompts.TryGetValue(name, out var rp) ? rp : "";
    }

    /// <summary>Checks a role name (null allowed).</summary>
    public static string? CheckRole(string? role) => role is null or "query" or "document"
        ? role
        : throw new ApiException(ErrorType.Tokenizer, $"`role` must be \"query\" or \"document\"; got \"{role}\"", StatusCodes.Status422UnprocessableEntity);

    /// <summary>Parses <c>truncation_direction</c> (TEI spells it Left / Right; any case accepted).</summary>
    public static TruncationDirection ParseDirection(string? value) => value?.ToLowerInvariant() switch
    {
        null or "right" => TruncationDirection.Right,
        "left" => TruncationDirection.Left,
        _ => throw new ApiException(ErrorType.Tokenizer, $"`truncation_direction` must be \"Left\" or \"Right\"; got \"{value}\"", StatusCodes.Status422UnprocessableEntity),
    };

    /// <summary>The text as the tokenizer sees it: prompt prepended, then the character limit applied.</summary>
    public string WithPrompt(string text, string prompt, bool truncate, TruncationDirection direction)
    {
        if (text.Length == 0) throw new ApiException(ErrorType.Validation, "`inputs` cannot be empty");
        string full = prompt.Length == 0 ? text : prompt + text;
        long limit = (long)MaxInputLength * MaxCharsPerToken;
        if (full.Length > limit)
        {
            if (!truncate)
                throw new ApiException(ErrorType.Validation, $"`inputs` must have less than {limit} characters. Given: {full.Length}");
            int keep = (int)limit;
            if (direction == TruncationDirection.Right)
            {
                if (char.IsHighSurrogate(full[keep - 1])) keep--;
                full = full[..keep];
            }
            else
            {
                int start = full.Length - keep;
                if (char.IsLowSurrogate(full[start])) start++;
                full = full[start..];
            }
        }
        return full;
    }

    /// <summary>Token ids of one input for <paramref name="route"/>, validated and truncated as TEI does.</summary>
    public int[] TokenIds(string text, string prompt, string route, bool truncate, TruncationDirection direction)
    {
        string full = WithPrompt(text, prompt, truncate, direction);
        string t = Normalize(full);
        bool specials = _encoder.Model.RouteAddsSpecialTokens(route);
        var tokenizer = _encoder.Tokenizer;
        int[] ids = tokenizer.Encode(t, int.MaxValue, specials).Ids;
        if (ids.Length <= MaxInputLength) return ids;
        if (!truncate)
            throw new ApiException(ErrorType.Validation, $"`inputs` must have less than {MaxInputLength} tokens. Given: {ids.Length}");
        // Right truncation is exactly SparseEncoder's: keep the first pieces, then the closing specials.
        if (direction == TruncationDirection.Right) return tokenizer.Encode(t, MaxInputLength, specials).Ids;
        int[] wrap = tokenizer.Encode("", MaxInputLength, specials).Ids;
        int[] pieces = specials ? tokenizer.Encode(t, int.MaxValue, addSpecialTokens: false).Ids : ids;
        int keep = MaxInputLength - wrap.Length;
        var tail = pieces.AsSpan(pieces.Length - keep);
        if (wrap.Length == 0) return tail.ToArray();
        // A single-sequence template adds one token before and the rest after the text ([CLS] … [SEP]).
        return [wrap[0], .. tail, .. wrap.AsSpan(1)];
    }

    /// <summary>SparseEncoder's text preparation: whitespace stripped, lower-cased when the checkpoint says do_lower_case.</summary>
    public string Normalize(string text)
    {
        text = text.Trim();
        return _encoder.Model.Folder.Settings.DoLowerCase ? text.ToLowerInvariant() : text;
    }
}
