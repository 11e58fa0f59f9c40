using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Splade.Hub;

/// <summary>A model repository on the Hub at one revision (branch, tag or 40-hex commit), written <c>owner/name[@revision]</c>.</summary>
public readonly partial record struct ModelReference(string Owner, string Name, string Revision)
{
    /// <summary>The revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    /// <summary><c>owner/name</c>.</summary>
    public string RepoId => $"{Owner}/{Name}";

    /// <summary>True when <see cref="Revision"/> is a full commit hash (then it is never written to <c>refs/</c>).</summary>
    public bool IsCommitHash => IsCommit(Revision);

    /// <summary>
    /// Parses <c>owner/name</c> or <c>owner/name@revision</c>. Owner and name follow the Hub's rules
    /// (letters, digits, <c>-</c>, <c>_</c>, <c>.</c>; no <c>--</c> or <c>..</c>; at most 96 characters in all);
    /// the revision may itself hold slashes (<c>refs/pr/1</c>).
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? spec, out ModelReference reference)
    {
        reference = default;
        if (string.IsNullOrWhiteSpace(spec)) return false;
        string repo = spec.Trim();
        string revision = DefaultRevision;
        int at = repo.IndexOf('@');
        if (at >= 0)
        {
            revision = repo[(at + 1)..];
            repo = repo[..at];
            if (revision.Length == 0 || revision.Any(char.IsWhiteSpace) || revision.Contains("..", StringComparison.Ordinal)
                || revision.StartsWith('/') || revision.EndsWith('/'))
                return false;
        }
        int slash = repo.IndexOf('/');
        if (slash <= 0 || slash != repo.LastIndexOf('/') || repo.Length > 96) return false;
        string owner = repo[..slash], name = repo[(slash + 1)..];
        if (!IsValidPart(owner) || !IsValidPart(name)) return false;
        reference = new ModelReference(owner, name, revision);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/> but throws <see cref="FormatException"/> naming the input.</summary>
    public static ModelReference Parse(string spec) => TryParse(spec, out var r) ? r
        : throw new FormatException($"'{spec}' is not a Hub model id: expected owner/name or owner/name@revision.");

    /// <inheritdoc/>
    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";

    internal static bool IsCommit(string revision) => CommitRegex().IsMatch(revision);

    private static bool IsValidPart(string part) =>
        PartRegex().IsMatch(part) && !part.Contains("--", StringComparison.Ordinal) && !part.Contains("..", StringComparison.Ordinal)
        && !part.EndsWith(".git", StringComparison.Ordinal);

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitRegex();

    // huggingface_hub validate_repo_id: word characters, '-' and '.', starting and ending with a word character.
    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")]
    private static partial Regex PartRegex();
}
