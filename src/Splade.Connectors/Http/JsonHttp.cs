using System.Net;
using System.Text;
using System.Text.Json;

namespace Splade.Connectors.Http;

/// <summary>Synchronous JSON requests over an <see cref="HttpClient"/> whose BaseAddress is the engine.</summary>
internal static class JsonHttp
{
    public const string Json = "application/json";

    /// <summary>Sends a request and returns the parsed JSON answer (null for an empty body); throws on error statuses except those in <paramref name="allowed"/>.</summary>
    public static (HttpStatusCode Status, JsonDocument? Body) Send(HttpClient client, HttpMethod method, string path, string? body,
        string contentType = Json, CancellationToken cancellationToken = default, params HttpStatusCode[] allowed)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, new UTF8Encoding(false), contentType);
        using var response = client.Send(request, cancellationToken);
        using var stream = response.Content.ReadAsStream(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string text = reader.ReadToEnd();
        if (!response.IsSuccessStatusCode && !allowed.Contains(response.StatusCode))
            throw new SearchEngineException(method.Method, path, response.StatusCode, Truncate(text));
        if (string.IsNullOrWhiteSpace(text)) return (response.StatusCode, null);
        try { return (response.StatusCode, JsonDocument.Parse(text)); }
        catch (JsonException e)
        {
            throw new SearchEngineException(method.Method, path, response.StatusCode, $"answer is not JSON ({e.Message}): {Truncate(text)}");
        }
    }

    public static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "...";

    /// <summary>Escapes one path segment (index name, document id).</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);
}
