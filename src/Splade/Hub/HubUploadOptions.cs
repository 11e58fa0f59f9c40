namespace Splade.Hub;

/// <summary>What <see cref="HubUploader.UploadFolderAsync"/> commits and where.</summary>
public sealed record HubUploadOptions
{
    /// <summary>Branch the commit goes to (default <c>main</c>).</summary>
    public string Revision { get; init; } = "main";

    /// <summary>First line of the commit message.</summary>
    public string CommitMessage { get; init; } = "Upload folder with Splade.NET";

    /// <summary>Longer commit description (may be empty).</summary>
    public string CommitDescription { get; init; } = "";

    /// <summary>Create the repository first when it does not exist (an existing one is kept as is).</summary>
    public bool CreateRepository { get; init; } = true;

    /// <summary>Visibility of a repository created by the upload.</summary>
    public bool Private { get; init; }

    /// <summary>
    /// Which files of the folder are uploaded, by '/'-separated relative path; null uploads every file except
    /// <see cref="DefaultExclude"/> (training checkpoints, optimizer state, hidden folders).
    /// </summary>
    public Func<string, bool>? Include { get; init; }

    /// <summary>
    /// Files left out by default: <c>checkpoint-*/</c>, <c>best/</c>, <c>optimizer.safetensors</c>, <c>trainer_state.json</c>,
    /// and anything under a folder starting with '.' (e.g. <c>.git/</c>, <c>.cache/</c>), as <c>upload_folder</c> ignores <c>.git</c>.
    /// </summary>
    public static bool DefaultExclude(string relativePath)
    {
        string[] parts = relativePath.Split('/');
        if (parts.Any(p => p.StartsWith('.'))) return true;
        string top = parts[0];
        if (parts.Length > 1 && (top.StartsWith("checkpoint-", StringComparison.Ordinal) || top == "best")) return true;
        return parts[^1] is "optimizer.safetensors" or "trainer_state.json";
    }
}

/// <summary>The commit made by an upload.</summary>
/// <param name="CommitOid">Commit hash returned by the Hub.</param>
/// <param name="CommitUrl">Web address of the commit.</param>
/// <param name="RegularFiles">Files sent inline (base64) in the commit.</param>
/// <param name="LfsFiles">Files stored through Git LFS (sent to the LFS storage, referenced by sha256).</param>
/// <param name="LfsBytesSent">LFS bytes actually uploaded (objects the Hub already had are not sent again).</param>
public sealed record HubCommitInfo(string CommitOid, string CommitUrl, IReadOnlyList<string> RegularFiles, IReadOnlyList<string> LfsFiles, long LfsBytesSent);
