namespace Splade.Hub;

/// <summary>How a request treats the redirects it is answered with.</summary>
internal enum RedirectRule
{
    /// <summary>
    /// The metadata HEAD of <c>huggingface_hub</c> (<c>get_hf_file_metadata</c>): only a relative <c>Location</c>
    /// (no host: a renamed repository) is followed; any other redirect, to another host or to the same one,
    /// is the answer, and its own headers are the metadata.
    /// </summary>
    RelativeOnly,

    /// <summary>Every redirect is followed (the download GET and the API calls).</summary>
    All,
}

/// <summary>
/// The redirect rule of <c>huggingface_hub</c>: a <c>Location</c> is relative when <c>urllib.parse.urlparse</c>
/// finds no network location in it (no <c>//host</c>), and following it keeps the scheme, host and query of the
/// current URL and takes the path of the <c>Location</c>.
/// </summary>
internal static class HubRedirects
{
    /// <summary>True for a <c>Location</c> without a host (<c>/new-owner/new-name/resolve/...</c>).</summary>
    public static bool IsRelative(string location) => Split(location).NetLoc.Length == 0;

    /// <summary>
    /// <paramref name="current"/> with its path replaced by the path of the relative <paramref name="location"/>
    /// (urlparse(url)._replace(path=target.path)); a path without a leading '/' is taken from the root, as
    /// urlunparse does.
    /// </summary>
    public static Uri FollowRelative(Uri current, string location)
    {
        string path = Split(location).Path;
        if (!path.StartsWith('/')) path = "/" + path;
        return new Uri($"{current.Scheme}://{current.Authority}{path}{current.Query}");
    }

    /// <summary>The network location and path of a URL, split the way <c>urllib.parse.urlsplit</c> splits them.</summary>
    internal static (string NetLoc, string Path) Split(string url)
    {
        string rest = url.Trim();
        int colon = rest.IndexOf(':');
        if (colon > 0 && char.IsAsciiLetter(rest[0]) && rest[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            rest = rest[(colon + 1)..];
        string netloc = "";
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            int end = rest.IndexOfAny(['/', '?', '#'], 2);
            if (end < 0) end = rest.Length;
            netloc = rest[2..end];
            rest = rest[end..];
        }
        int query = rest.IndexOfAny(['?', '#']);
        return (netloc, query < 0 ? rest : rest[..query]);
    }
}
