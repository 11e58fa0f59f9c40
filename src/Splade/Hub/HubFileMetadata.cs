namespace Splade.Hub;

/// <summary>
/// What a HEAD request on <c>{endpoint}/{repo}/resolve/{revision}/{path}</c> tells about a file.
/// </summary>
/// <param name="Commit">The commit the revision resolved to (<c>X-Repo-Commit</c>).</param>
/// <param name="ETag">The blob name: <c>X-Linked-Etag</c> (sha256, LFS files) or <c>ETag</c> (git sha1), without quotes.</param>
/// <param name="Size">Bytes of the content (<c>X-Linked-Size</c>, else <c>Content-Length</c>); null when not announced.</param>
/// <param name="Location">Where to GET the content: the CDN address for LFS files, else the resolve URL.</param>
/// <param name="Sha256">The announced sha256 of the content (LFS files only), checked after download.</param>
public sealed record HubFileMetadata(string Commit, string ETag, long? Size, string Location, string? Sha256);

/// <summary>A revision of a repository as listed by <c>GET {endpoint}/api/models/{repo}/revision/{revision}</c>.</summary>
/// <param name="Sha">The commit the revision points at.</param>
/// <param name="Files">Every file path (<c>siblings[].rfilename</c>), '/'-separated.</param>
public sealed record RepoRevisionInfo(string Sha, IReadOnlyList<string> Files);
