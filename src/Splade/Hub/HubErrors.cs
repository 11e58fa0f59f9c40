using System.Net;

namespace Splade.Hub;

/// <summary>Turns a failed Hub answer into the typed exception a caller can act on.</summary>
internal static class HubErrors
{
    /// <summary>Maps status + <c>X-Error-Code</c> the way <c>huggingface_hub</c>'s <c>hf_raise_for_status</c> does.</summary>
    /// <remarks><paramref name="isApiCall"/>: true for the revision API (a bare 404 then means the repository), false for a file.</remarks>
    public static HubException FromResponse(HttpResponseMessage response, string url, ModelReference model, string? file, bool isApiCall, string? body)
    {
        var status = response.StatusCode;
        string? code = Header(response, "X-Error-Code");
        string? serverMessage = Header(response, "X-Error-Message") ?? Trim(body);
        string detail = $"(HTTP {(int)status}{(code is null ? "" : " " + code)}{(serverMessage is null ? "" : ": " + serverMessage)}; {url})";
        string what = file is null ? $"{model.RepoId}@{model.Revision}" : $"'{file}' in {model.RepoId}@{model.Revision}";

        HubException e = code switch
        {
            "RevisionNotFound" => new RevisionNotFoundException($"Revision '{model.Revision}' does not exist in {model.RepoId} {detail}."),
            "EntryNotFound" => new EntryNotFoundException($"File '{file}' does not exist in {model.RepoId}@{model.Revision} {detail}."),
            "GatedRepo" => new GatedRepositoryException($"{model.RepoId} is gated: accept its conditions on the Hub and set HF_TOKEN to a token of that account {detail}."),
            "RepoNotFound" => RepoNotFound(model, detail),
            _ => status switch
            {
                HttpStatusCode.Unauthorized when serverMessage?.Contains("Invalid credentials", StringComparison.OrdinalIgnoreCase) == true
                    => new HubAuthenticationException($"The Hub rejected the token (HF_TOKEN or the token file) while fetching {what} {detail}."),
                HttpStatusCode.Unauthorized => RepoNotFound(model, detail),
                HttpStatusCode.Forbidden => new HubAuthenticationException($"Access to {what} is forbidden: the token lacks the permission needed {detail}."),
                HttpStatusCode.NotFound when isApiCall => RepoNotFound(model, detail),
                HttpStatusCode.NotFound => new EntryNotFoundException($"File '{file}' does not exist in {model.RepoId}@{model.Revision} {detail}."),
                _ when (int)status >= 500 => new HubException($"The Hub failed to serve {what} {detail}."),
                _ => new HubException($"Unexpected answer while fetching {what} {detail}."),
            },
        };
        return Annotate(e, status, url, code);
    }

    /// <summary>True for failures worth retrying or falling back to the cache for: no connection, timeouts, 5xx, 429.</summary>
    public static bool IsTransient(HubException e) =>
        e is HubNetworkException || (e.StatusCode is { } s && ((int)s >= 500 || s == HttpStatusCode.TooManyRequests));

    public static string? Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out var v) || response.Content.Headers.TryGetValues(name, out v))
            return v.FirstOrDefault();
        return null;
    }

    private static HubException RepoNotFound(ModelReference model, string detail) => new RepositoryNotFoundException(
        $"Repository {model.RepoId} was not found: check the name; if it is private or gated, set HF_TOKEN to a token with access {detail}.");

    private static HubException Annotate(HubException e, HttpStatusCode status, string url, string? code)
    {
        e.StatusCode = status;
        e.Url = url;
        e.ErrorCode = code;
        return e;
    }

    private static string? Trim(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        body = body.Trim().ReplaceLineEndings(" ");
        return body.Length > 300 ? body[..300] + "…" : body;
    }
}
