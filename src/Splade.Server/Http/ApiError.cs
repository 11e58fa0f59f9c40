using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Splade.Server.Http;

/// <summary>
/// Text Embeddings Inference's error kinds (router/src/lib.rs <c>ErrorType</c>), serialized by
/// name in the <c>error_type</c> field.
/// </summary>
public enum ErrorType
{
    /// <summary>503: the model cannot serve.</summary>
    Unhealthy,
    /// <summary>424: inference failed, or the route needs something not loaded (no index).</summary>
    Backend,
    /// <summary>429: too many requests in flight.</summary>
    Overloaded,
    /// <summary>413: too many inputs, input too long, empty input, body too large.</summary>
    Validation,
    /// <summary>422: the request's fields have the wrong types or values, or tokenization failed.</summary>
    Tokenizer,
    /// <summary>400: empty batch, or the body is not JSON.</summary>
    Empty,
}

/// <summary>
/// An error answered as <c>{"error": message, "error_type": kind}</c> with TEI's status code for
/// the kind (or an explicit one, e.g. 400 for malformed JSON, 401, 404). Thrown by endpoint code;
/// turned into a response only by <see cref="ApiErrors"/>.
/// </summary>
public sealed class ApiException : Exception
{
    /// <summary>Creates an error of <paramref name="type"/> answered with its TEI status, or <paramref name="status"/>.</summary>
    public ApiException(ErrorType type, string message, int? status = null) : base(message)
    {
        Type = type;
        Status = status ?? ApiErrors.StatusOf(type);
    }

    /// <summary>The TEI error kind.</summary>
    public ErrorType Type { get; }

    /// <summary>HTTP status code of the response.</summary>
    public int Status { get; }
}

/// <summary>Maps errors to HTTP responses: the one place where failures become status codes.</summary>
public static class ApiErrors
{
    /// <summary>TEI's status code of each error kind (router/src/http/server.rs, <c>From&lt;&amp;ErrorType&gt; for StatusCode</c>).</summary>
    public static int StatusOf(ErrorType type) => type switch
    {
        ErrorType.Unhealthy => StatusCodes.Status503ServiceUnavailable,
        ErrorType.Backend => StatusCodes.Status424FailedDependency,
        ErrorType.Overloaded => StatusCodes.Status429TooManyRequests,
        ErrorType.Tokenizer => StatusCodes.Status422UnprocessableEntity,
        ErrorType.Validation => StatusCodes.Status413PayloadTooLarge,
        ErrorType.Empty => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>Writes <c>{"error", "error_type"}</c> with <paramref name="status"/>, unless the response has started.</summary>
    public static async Task WriteAsync(HttpContext context, int status, ErrorType type, string message)
    {
        if (context.Response.HasStarted) return;
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, JsonOutput.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteString("error_type", type.ToString());
            w.WriteEndObject();
        }
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
