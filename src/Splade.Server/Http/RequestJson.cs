using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;

namespace Splade.Server.Http;

/// <summary>
/// Reads a request body as one JSON object and its fields with type checks. Failures are
/// <see cref="ApiException"/>s with axum's codes as TEI answers them: 413 for a body over the
/// payload limit, 400 for bytes that are not UTF-8 JSON, 422 for a field of the wrong type.
/// </summary>
internal sealed class RequestJson : IDisposable
{
    private readonly JsonDocument _document;

    private RequestJson(JsonDocument document) => _document = document;

    /// <summary>The body's top-level object.</summary>
    public JsonElement Root => _document.RootElement;

    /// <summary>Reads and parses the body (bounded by Kestrel's MaxRequestBodySize).</summary>
    public static async Task<RequestJson> ReadAsync(HttpContext context)
    {
        byte[] body;
        try
        {
            using var ms = new MemoryStream();
            await context.Request.Body.CopyToAsync(ms, context.RequestAborted).ConfigureAwait(false);
            body = ms.ToArray();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiException(ErrorType.Validation, $"request body is larger than the payload limit: {e.Message}");
        }
        if (!Utf8.IsValid(body))
            throw new ApiException(ErrorType.Empty, "request body is not valid UTF-8", StatusCodes.Status400BadRequest);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new ApiException(ErrorType.Empty, $"request body is not valid JSON: {e.Message}", StatusCodes.Status400BadRequest);
        }
        if (JsonText.FindLoneSurrogate(body, document.RootElement) is { } where)
        {
            // Parsed, but no string there can be read (GetString and TryGetProperty would throw).
            // serde_json (TEI) refuses such escapes as a syntax error: 400.
            document.Dispose();
            throw new ApiException(ErrorType.Empty, $"request body is not valid JSON: the string at {where} holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair)", StatusCodes.Status400BadRequest);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw TypeError("request body", "a JSON object", kind);
        }
        return new RequestJson(document);
    }

    /// <summary>The field, or null when absent or JSON null.</summary>
    public JsonElement? Field(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>A boolean field, <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string name, bool fallback)
    {
        if (Field(name) is not { } v) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError($"`{name}`", "a boolean", v.ValueKind),
        };
    }

    /// <summary>A string field, null when absent.</summary>
    public string? String(string name)
    {
        if (Field(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String) throw TypeError($"`{name}`", "a string", v.ValueKind);
        return v.GetString();
    }

    /// <summary>An integer field in [<paramref name="min"/>, <paramref name="max"/>], null when absent.</summary>
    public int? Int(string name, int min = 0, int max = int.MaxValue)
    {
        if (Field(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x)) throw TypeError($"`{name}`", "an integer", v.ValueKind);
        if (x < min || x > max) throw new ApiException(ErrorType.Tokenizer, $"`{name}` must be in [{min}, {max}]; got {x}", StatusCodes.Status422UnprocessableEntity);
        return (int)x;
    }

    /// <summary>A finite number field, null when absent.</summary>
    public float? Float(string name)
    {
        if (Field(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x) || !double.IsFinite(x)) throw TypeError($"`{name}`", "a number", v.ValueKind);
        return (float)x;
    }

    /// <summary>
    /// TEI's <c>inputs</c>: a string or a list of strings. Returns the texts and whether the request
    /// was a list. Absent → 422; an empty list → 400 (TEI's "Empty").
    /// </summary>
    public (string[] Texts, bool IsBatch) Inputs(string name)
    {
        if (Field(name) is not { } v) throw new ApiException(ErrorType.Tokenizer, $"missing field `{name}`", StatusCodes.Status422UnprocessableEntity);
        if (v.ValueKind == JsonValueKind.String) return ([v.GetString()!], false);
        if (v.ValueKind != JsonValueKind.Array) throw TypeError($"`{name}`", "a string or a list of strings", v.ValueKind);
        int n = v.GetArrayLength();
        if (n == 0) throw new ApiException(ErrorType.Empty, $"`{name}` cannot be empty");
        var texts = new string[n];
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw TypeError($"`{name}[{i}]`", "a string", item.ValueKind);
            texts[i++] = item.GetString()!;
        }
        return (texts, true);
    }

    /// <summary>A 422 naming the field, the expected type and the JSON kind found.</summary>
    public static ApiException TypeError(string what, string expected, JsonValueKind found) =>
        new(ErrorType.Tokenizer, $"{what} must be {expected}; got {found.ToString().ToLowerInvariant()}", StatusCodes.Status422UnprocessableEntity);

    public void Dispose() => _document.Dispose();
}
