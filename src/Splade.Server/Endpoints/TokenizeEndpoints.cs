using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Splade.Server.Http;

namespace Splade.Server.Endpoints;

/// <summary><c>POST /tokenize</c> and <c>POST /decode</c> in TEI's shapes.</summary>
internal static class TokenizeEndpoints
{
    /// <summary>
    /// <c>{"inputs": "text" | [...], "add_special_tokens": true, "prompt_name": null}</c> → per input a
    /// list of <c>{"id", "text", "special", "start", "stop"}</c>; <c>start</c>/<c>stop</c> are character
    /// (code point) offsets into the prompted input, null for special tokens, as TEI reports them.
    /// </summary>
    public static async Task Tokenize(HttpContext context, ServingState state)
    {
        using var req = await RequestJson.ReadAsync(context).ConfigureAwait(false);
        var (texts, _) = req.Inputs("inputs");
        EmbedSparseEndpoint.CheckBatchSize(texts.Length, state.Options.MaxClientBatchSize);
        bool addSpecial = req.Bool("add_special_tokens", true);
        string? role = InputPreparer.CheckRole(req.String("role"));
        string prompt = state.Inputs.ResolvePrompt(req.String("prompt_name"), role);
        bool specials = addSpecial && state.Encoder.Model.RouteAddsSpecialTokens(InputPreparer.RouteOf(role));

        var results = new List<(string Full, int Shift, Tokenization.TokenizedText Tokens)>(texts.Length);
        foreach (string text in texts)
        {
            string full = state.Inputs.WithPrompt(text, prompt, truncate: false, TruncationDirection.Right);
            // Offsets of the tokenizer index the stripped text; shift them back onto the full input.
            int shift = full.Length - full.TrimStart().Length;
            results.Add((full, shift, state.Encoder.Tokenizer.Encode(state.Inputs.Normalize(full), int.MaxValue, specials)));
        }

        await JsonOutput.WriteAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (var (full, shift, t) in results)
            {
                w.WriteStartArray();
                for (int i = 0; i < t.Length; i++)
                {
                    var (s, e) = t.Offsets[i];
                    bool special = s == e;
                    w.WriteStartObject();
                    w.WriteNumber("id", t.Ids[i]);
                    if (special)
                    {
                        w.WriteString("text", t.Tokens[i]);
                        w.WriteBoolean("special", true);
                        w.WriteNull("start");
                        w.WriteNull("stop");
                    }
                    else
                    {
                        int start = s + shift, stop = e + shift;
                        w.WriteString("text", full.AsSpan(start, stop - start));
                        w.WriteBoolean("special", false);
                        w.WriteNumber("start", CodePoints(full, start));
                        w.WriteNumber("stop", CodePoints(full, stop));
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>{"ids": [1, 2] | [[1, 2], [3]], "skip_special_tokens": true}</c> → one string per id list.
    /// An empty outer list is 400 (Empty), an empty id list 413 (Validation), an unknown id 422.
    /// </summary>
    public static async Task Decode(HttpContext context, ServingState state)
    {
        using var req = await RequestJson.ReadAsync(context).ConfigureAwait(false);
        bool skipSpecial = req.Bool("skip_special_tokens", true);
        if (req.Field("ids") is not { } idsField)
            throw new ApiException(ErrorType.Tokenizer, "missing field `ids`", StatusCodes.Status422UnprocessableEntity);
        if (idsField.ValueKind != JsonValueKind.Array)
            throw RequestJson.TypeError("`ids`", "a list of token ids or a list of lists", idsField.ValueKind);
        var lists = new List<int[]>();
        bool batch = idsField.GetArrayLength() > 0 && idsField[0].ValueKind == JsonValueKind.Array;
        if (!batch) lists.Add(ReadIds(idsField, "ids"));
        else
        {
            int i = 0;
            foreach (var inner in idsField.EnumerateArray())
            {
                if (inner.ValueKind != JsonValueKind.Array) throw RequestJson.TypeError($"`ids[{i}]`", "a list of token ids", inner.ValueKind);
                lists.Add(ReadIds(inner, $"ids[{i}]"));
                i++;
            }
            EmbedSparseEndpoint.CheckBatchSize(lists.Count, state.Options.MaxClientBatchSize);
        }
        if (!batch && idsField.GetArrayLength() == 0)
            throw new ApiException(ErrorType.Empty, "`ids` cannot be empty");
        var texts = new string[lists.Count];
        for (int k = 0; k < lists.Count; k++)
        {
            if (lists[k].Length == 0) throw new ApiException(ErrorType.Validation, "`input_ids` cannot be empty");
            try { texts[k] = state.Encoder.Tokenizer.Decode(lists[k], skipSpecial); }
            catch (ArgumentOutOfRangeException e) { throw new ApiException(ErrorType.Tokenizer, e.Message.Split('\n')[0]); }
        }
        await JsonOutput.WriteAsync(context, w =>
        {
            w.WriteStartArray();
            foreach (string t in texts) w.WriteStringValue(t);
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static int[] ReadIds(JsonElement array, string what)
    {
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var x in array.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out int id) || id < 0)
                throw RequestJson.TypeError($"`{what}[{i}]`", "a non-negative integer token id", x.ValueKind);
            ids[i++] = id;
        }
        return ids;
    }

    /// <summary>Number of code points in s[..utf16Index] (TEI counts offsets in characters, not UTF-16 units).</summary>
    private static int CodePoints(string s, int utf16Index)
    {
        int n = 0;
        for (int i = 0; i < utf16Index; i++)
            if (!(char.IsLowSurrogate(s[i]) && i > 0 && char.IsHighSurrogate(s[i - 1]))) n++;
        return n;
    }
}
