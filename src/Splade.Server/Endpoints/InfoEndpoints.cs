using System.Reflection;
using Microsoft.AspNetCore.Http;
using Splade.Server.Http;

namespace Splade.Server.Endpoints;

/// <summary><c>GET /info</c>, <c>/health</c>, <c>/metrics</c> and <c>/openapi.json</c>.</summary>
internal static class InfoEndpoints
{
    private static readonly Lazy<byte[]> OpenApiDocument = new(() =>
    {
        using var s = typeof(InfoEndpoints).Assembly.GetManifestResourceStream("Splade.Server.openapi.json")
            ?? throw new InvalidOperationException("The OpenAPI document is missing from the assembly.");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    });

    /// <summary>Version of the server assembly (reported as TEI's <c>version</c>).</summary>
    public static string Version { get; } =
        typeof(InfoEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";

    /// <summary>TEI's <c>Info</c> fields, plus the sparse dimension, the prompts and the index size.</summary>
    public static Task Info(HttpContext context, ServingState state)
    {
        var o = state.Options;
        var enc = state.Encoder;
        return JsonOutput.WriteAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("model_id", o.ModelId ?? enc.ModelPath);
            if (o.ModelSha is null) w.WriteNull("model_sha");
            else w.WriteString("model_sha", o.ModelSha);
            w.WriteString("model_dtype", "float32");
            w.WriteStartObject("model_type");
            w.WriteStartObject("embedding");
            w.WriteString("pooling", "splade");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteNumber("max_concurrent_requests", o.MaxConcurrentRequests);
            w.WriteNumber("max_input_length", state.Inputs.MaxInputLength);
            w.WriteNumber("max_batch_tokens", o.MaxBatchTokens);
            if (o.MaxBatchRequests is int mbr) w.WriteNumber("max_batch_requests", mbr);
            else w.WriteNull("max_batch_requests");
            w.WriteNumber("max_client_batch_size", o.MaxClientBatchSize);
            w.WriteBoolean("auto_truncate", o.AutoTruncate);
            // Inputs are tokenized on the request threads (Kestrel's thread pool).
            w.WriteNumber("tokenization_workers", Environment.ProcessorCount);
            w.WriteString("version", Version);
            w.WriteNull("sha");
            w.WriteNull("docker_label");
            w.WriteNumber("dimension", enc.Dimension);
            w.WriteNumber("threads", enc.Model.Threads);
            w.WriteStartObject("prompts");
            foreach (var (name, text) in enc.Prompts.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteString(name, text);
            w.WriteEndObject();
            if (o.Index is { } index) w.WriteNumber("index_documents", index.Count);
            else w.WriteNull("index_documents");
            w.WriteEndObject();
        });
    }

    /// <summary>200 with an empty body, like TEI's <c>/health</c>; 503 (Unhealthy) while the model warms up.</summary>
    public static Task Health(HttpContext context, bool ready)
    {
        if (!ready) throw new ApiException(ErrorType.Unhealthy, "the model is warming up");
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    public static async Task Metrics(HttpContext context, ServingState state)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await context.Response.WriteAsync(state.Metrics.Render(), context.RequestAborted).ConfigureAwait(false);
    }

    public static async Task OpenApi(HttpContext context)
    {
        byte[] doc = OpenApiDocument.Value;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = doc.Length;
        await context.Response.Body.WriteAsync(doc, context.RequestAborted).ConfigureAwait(false);
    }
}
