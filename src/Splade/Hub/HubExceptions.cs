using System.Net;

namespace Splade.Hub;

/// <summary>A failure talking to the Hub or using its cache. Subclasses name the cause.</summary>
public class HubException : Exception
{
    public HubException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>The HTTP status of the answer that caused it, if any.</summary>
    public HttpStatusCode? StatusCode { get; internal set; }

    /// <summary>The URL requested, if any.</summary>
    public string? Url { get; internal set; }

    /// <summary>The Hub's <c>X-Error-Code</c> header, if any.</summary>
    public string? ErrorCode { get; internal set; }
}

/// <summary>The repository does not exist, or is private and the token (if any) gives no access (401/404 <c>RepoNotFound</c>).</summary>
public sealed class RepositoryNotFoundException : HubException
{
    public RepositoryNotFoundException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The branch, tag or commit does not exist in the repository (404 <c>RevisionNotFound</c>).</summary>
public sealed class RevisionNotFoundException : HubException
{
    public RevisionNotFoundException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The file does not exist at that revision (404 <c>EntryNotFound</c>, or recorded in <c>.no_exist/</c>).</summary>
public sealed class EntryNotFoundException : HubException
{
    public EntryNotFoundException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The repository is gated: its terms must be accepted on the Hub and a token given (403 <c>GatedRepo</c>).</summary>
public sealed class GatedRepositoryException : HubException
{
    public GatedRepositoryException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The token is invalid or lacks the permission needed (401 / 403 without a more specific code).</summary>
public sealed class HubAuthenticationException : HubException
{
    public HubAuthenticationException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The Hub could not be reached: connection refused, DNS failure, timeout, or repeated server errors.</summary>
public sealed class HubNetworkException : HubException
{
    public HubNetworkException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Downloaded content does not match what the Hub announced (size or sha256).</summary>
public sealed class HubIntegrityException : HubException
{
    public HubIntegrityException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The repository holds weights only in formats this library does not read (e.g. <c>pytorch_model.bin</c>).</summary>
public sealed class UnsupportedWeightsException : HubException
{
    public UnsupportedWeightsException(string message) : base(message) { }
}

/// <summary>Offline mode is on (<c>HF_HUB_OFFLINE</c> / <see cref="HubOptions.Offline"/>) and what is asked is not in the cache.</summary>
public sealed class OfflineCacheMissException : HubException
{
    public OfflineCacheMissException(string repoId, string revision, string? file, string cacheDir, string detail)
        : base($"{repoId}@{revision}{(file is null ? "" : $", file '{file}'")} is not in the cache '{cacheDir}' ({detail}), "
               + "and offline mode is on (HF_HUB_OFFLINE=1 or --offline), so nothing is downloaded. "
               + "Download it once while online, or unset HF_HUB_OFFLINE.")
    {
        RepoId = repoId;
        Revision = revision;
        File = file;
    }

    public string RepoId { get; }
    public string Revision { get; }
    public string? File { get; }
}
