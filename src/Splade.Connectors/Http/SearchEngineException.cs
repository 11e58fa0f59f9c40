using System.Net;

namespace Splade.Connectors.Http;

/// <summary>A search engine answered a request with an error (status code or per-item bulk failure).</summary>
public sealed class SearchEngineException : Exception
{
    /// <summary>Creates the exception for <paramref name="method"/> <paramref name="path"/>.</summary>
    public SearchEngineException(string method, string path, HttpStatusCode status, string detail)
        : base($"{method} {path} failed with {(int)status} {status}: {detail}")
    {
        Method = method;
        Path = path;
        StatusCode = status;
        Detail = detail;
    }

    /// <summary>HTTP method of the failed request.</summary>
    public string Method { get; }

    /// <summary>Path (and query) of the failed request.</summary>
    public string Path { get; }

    /// <summary>Status code returned.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The engine's error text (truncated).</summary>
    public string Detail { get; }
}
