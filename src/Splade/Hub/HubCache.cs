using System.Text.RegularExpressions;

namespace Splade.Hub;

/// <summary>
/// The cache layout shared with the Python client <c>huggingface_hub</c>:
/// <code>
/// {cache}/models--{owner}--{name}/
///   blobs/{etag}                      file contents (git sha1, or sha256 for LFS files)
///   blobs/{etag}.incomplete           a download in progress (resumed with a Range request)
///   snapshots/{commit}/{path}         relative symlink to ../../blobs/{etag} (one more ../ per sub-folder)
///   refs/{revision}                   the commit a branch or tag pointed to when last seen
///   .no_exist/{commit}/{path}         empty file: that path is known to be missing at that commit
/// {cache}/.locks/models--{owner}--{name}/{etag}.lock
/// </code>
/// </summary>
public sealed partial class HubCache
{
    /// <param name="cacheDir">The hub cache folder (Python's <c>HF_HUB_CACHE</c>).</param>
    public HubCache(string cacheDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDir);
        CacheDir = cacheDir;
    }

    /// <summary>The hub cache folder.</summary>
    public string CacheDir { get; }

    /// <summary>False forces the copying fallback used where symlinks cannot be made.</summary>
    internal bool UseSymlinks { get; set; } = true;

    /// <summary><c>models--{owner}--{name}</c>, the folder name Python uses for a model repository.</summary>
    public static string RepoFolderName(ModelReference model) => $"models--{model.Owner}--{model.Name}";

    /// <summary>The repository's folder inside the cache.</summary>
    public string RepoFolder(ModelReference model) => Path.Combine(CacheDir, RepoFolderName(model));

    /// <summary>Path of the blob with the given etag.</summary>
    public string BlobPath(ModelReference model, string etag) => Path.Combine(RepoFolder(model), "blobs", CheckEtag(etag));

    /// <summary>The snapshot folder of a commit (what a model loader reads).</summary>
    public string SnapshotFolder(ModelReference model, string commit) =>
        Path.Combine(RepoFolder(model), "snapshots", CheckCommit(commit));

    /// <summary>Path of a repository file inside the snapshot of a commit.</summary>
    public string SnapshotPath(ModelReference model, string commit, string file) =>
        Path.Combine(SnapshotFolder(model, commit), ToLocal(file));

    /// <summary>The lock file guarding the download of one blob (same place as Python's).</summary>
    public string LockPath(ModelReference model, string etag) =>
        Path.Combine(CacheDir, ".locks", RepoFolderName(model), CheckEtag(etag) + ".lock");

    /// <summary>The commit for <paramref name="model"/>'s revision: the revision itself when it is a commit hash, else <c>refs/{revision}</c>; null when unknown.</summary>
    public string? ResolveCommit(ModelReference model)
    {
        if (model.IsCommitHash) return model.Revision;
        string refPath = Path.Combine(RepoFolder(model), "refs", ToLocal(model.Revision));
        if (!File.Exists(refPath)) return null;
        string commit = File.ReadAllText(refPath).Trim();
        return ModelReference.IsCommit(commit) ? commit : null;
    }

    /// <summary>Records that <paramref name="model"/>'s revision points at <paramref name="commit"/> (nothing when the revision is that commit).</summary>
    public void WriteRef(ModelReference model, string commit)
    {
        CheckCommit(commit);
        if (model.Revision == commit) return;
        string refPath = Path.Combine(RepoFolder(model), "refs", ToLocal(model.Revision));
        if (File.Exists(refPath) && File.ReadAllText(refPath).Trim() == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        // Written without a trailing newline, as Python does; via a temporary file so readers never see half a hash.
        string tmp = refPath + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllText(tmp, commit);
        File.Move(tmp, refPath, overwrite: true);
    }

    /// <summary>The snapshot file when present (a symlink whose blob exists, or a plain file); otherwise null.</summary>
    public string? TryGetFile(ModelReference model, string commit, string file)
    {
        string path = SnapshotPath(model, commit, file);
        return ContentExists(path) ? path : null;
    }

    /// <summary>True when <c>.no_exist/{commit}/{file}</c> records the file as missing.</summary>
    public bool IsKnownMissing(ModelReference model, string commit, string file) =>
        File.Exists(Path.Combine(RepoFolder(model), ".no_exist", CheckCommit(commit), ToLocal(file)));

    /// <summary>Creates the empty marker <c>.no_exist/{commit}/{file}</c>.</summary>
    public void MarkMissing(ModelReference model, string commit, string file)
    {
        string marker = Path.Combine(RepoFolder(model), ".no_exist", CheckCommit(commit), ToLocal(file));
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        if (!File.Exists(marker)) File.WriteAllBytes(marker, []);
    }

    /// <summary>
    /// Makes <c>snapshots/{commit}/{file}</c> point at <c>blobs/{etag}</c> with a relative symlink, as Python does;
    /// where symlinks cannot be made (some Windows setups, some file systems) the blob is copied instead.
    /// </summary>
    /// <returns>The snapshot path.</returns>
    public string LinkIntoSnapshot(ModelReference model, string commit, string file, string etag)
    {
        string blob = BlobPath(model, etag);
        string pointer = SnapshotPath(model, commit, file);
        string dir = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(dir);
        if (ContentExists(pointer)) return pointer;
        // A dangling link (its blob was deleted): replace it.
        if (new FileInfo(pointer).LinkTarget is not null) File.Delete(pointer);
        string relative = Path.GetRelativePath(dir, blob); // ../../blobs/{etag}, plus one ../ per sub-folder
        try
        {
            if (!UseSymlinks) throw new PlatformNotSupportedException("symlinks disabled");
            File.CreateSymbolicLink(pointer, relative);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            if (ContentExists(pointer)) return pointer; // another process linked it meanwhile
            string tmp = pointer + ".copy." + Guid.NewGuid().ToString("N")[..8];
            File.Copy(blob, tmp, overwrite: true);
            File.Move(tmp, pointer, overwrite: true);
        }
        return pointer;
    }

    /// <summary>True when <paramref name="path"/> is a file, or a symlink whose final target is a file.
    /// (<see cref="File.Exists"/> is also true for a dangling symlink.)</summary>
    public static bool ContentExists(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) return false;
        return info.LinkTarget is null || info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true };
    }

    /// <summary>Size of the content of <paramref name="path"/>, following symlinks (<see cref="FileInfo.Length"/> of a link is the link's own size).</summary>
    public static long ContentLength(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
        return info.Length;
    }

    /// <summary>
    /// Converts a repository path (always '/'-separated) to a local relative path, refusing anything that could
    /// leave the snapshot folder (absolute paths, <c>..</c>, empty segments, backslashes).
    /// </summary>
    internal static string ToLocal(string repoPath)
    {
        if (string.IsNullOrEmpty(repoPath) || repoPath.StartsWith('/') || repoPath.Contains('\\') || repoPath.Contains('\0')
            || repoPath.Split('/').Any(s => s.Length == 0 || s == "." || s == ".."))
            throw new HubException($"Refusing the repository path '{repoPath}': it must be a relative path without '.', '..' or empty segments.");
        return repoPath.Replace('/', Path.DirectorySeparatorChar);
    }

    internal static string CheckEtag(string etag) => EtagRegex().IsMatch(etag) ? etag
        : throw new HubException($"The Hub answered with an unusable ETag '{etag}' (expected a hex digest).");

    private static string CheckCommit(string commit) => ModelReference.IsCommit(commit) ? commit
        : throw new HubException($"'{commit}' is not a 40-hex commit hash.");

    // Git sha1 (40 hex) or sha256 (64 hex) in practice; mirrors may use other safe tokens.
    [GeneratedRegex("^[A-Za-z0-9_\\-]{1,128}$")]
    private static partial Regex EtagRegex();
}
