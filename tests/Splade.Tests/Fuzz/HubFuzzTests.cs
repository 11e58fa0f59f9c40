using System.Text;
using Splade.Hub;
using Splade.Tests.Models;

namespace Splade.Tests.Fuzz;

/// <summary>
/// <see cref="ModelReference.TryParse"/> never throws and what it accepts prints back to itself;
/// every cache path built from an accepted reference and any repository path stays inside the
/// cache folder (or is refused with a <see cref="HubException"/>).
/// </summary>
public sealed class HubFuzzTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Pieces =
    [
        "/", "//", "@", "@@", ".", "..", "../", "./", "\\", "\0", " ", "\t", "\n", "-", "--", "_", ".git", "~", ":", "%2e%2e", "refs/pr/1",
        "main", "rasyosef", "SPLADE-BERT-Mini", "a", "Z9", "é", "\uD800", "😀", "*", "?", "models--x--y", "snapshots", "blobs",
        "0123456789abcdef0123456789abcdef01234567", "/etc/passwd", "C:", "\\\\server\\share", "CON", "\u202E",
    ];

    private static string RandomPieces(Random r, int max)
    {
        var sb = new StringBuilder();
        int n = r.Next(1, max);
        for (int i = 0; i < n; i++) sb.Append(Pieces[r.Next(Pieces.Length)]);
        return sb.ToString();
    }

    /// <summary>A name part: usually valid characters (with '.', '-', '_' in awkward places), sometimes anything.</summary>
    private static string RandomPart(Random r)
    {
        if (r.Next(4) == 0) return RandomPieces(r, 4);
        const string Chars = "abcXYZ019-_.";
        int n = r.Next(1, r.Next(2) == 0 ? 8 : 100);
        return new string(Enumerable.Range(0, n).Select(_ => Chars[r.Next(Chars.Length)]).ToArray());
    }

    private static string RandomSpec(Random r) => r.Next(6) switch
    {
        0 => Mutate.Text(r, 120),
        1 => RandomPieces(r, 9),
        _ => RandomPart(r) + "/" + RandomPart(r) + (r.Next(3) == 0 ? "" : "@" + RandomPieces(r, 6)),
    };

    private static bool Inside(string path, string root)
    {
        string full = Path.GetFullPath(path), rootFull = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return full.StartsWith(rootFull, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_references_parse_or_are_refused_and_paths_stay_in_the_cache()
    {
        string sandbox = Path.Combine(_dir.Path, "sandbox"), cacheDir = Path.Combine(sandbox, "cache");
        Directory.CreateDirectory(cacheDir);
        var cache = new HubCache(cacheDir) { UseSymlinks = false };
        const string Commit = "0123456789abcdef0123456789abcdef01234567";
        int accepted = 0;
        FuzzRunner.Run("model reference", 71, FuzzRunner.Iterations(3000), (r, _) => (Spec: RandomSpec(r), File: RandomPieces(r, 6)),
            c => $"spec {FuzzRunner.Show(c.Spec)}, file {FuzzRunner.Show(c.File)}", c =>
        {
            if (!ModelReference.TryParse(c.Spec, out var model))
            {
                if (c.Spec is not null) Assert.Throws<FormatException>(() => ModelReference.Parse(c.Spec));
                return;
            }
            accepted++;
            if (!ModelReference.TryParse(model.ToString(), out var again) || again != model)
                throw new FuzzAssertionException($"'{model}' does not parse back to itself");
            if (!Inside(cache.RepoFolder(model), cacheDir)) throw new FuzzAssertionException($"repo folder {cache.RepoFolder(model)} escapes");
            if (!Inside(cache.SnapshotFolder(model, Commit), cacheDir)) throw new FuzzAssertionException("snapshot folder escapes");
            if (!Inside(cache.LockPath(model, "abc123"), cacheDir)) throw new FuzzAssertionException("lock path escapes");
            foreach (Action write in new Action[]
                     {
                         () => cache.WriteRef(model, Commit),
                         () => cache.ResolveCommit(model),
                         () => { if (!Inside(cache.SnapshotPath(model, Commit, c.File), cacheDir)) throw new FuzzAssertionException("snapshot path escapes"); },
                         () => cache.MarkMissing(model, Commit, c.File),
                     })
            {
                FuzzRunner.ParsesOrThrows<HubException>(write, e => e.Message.Length > 0 ? null : "empty message");
            }
            string[] outside = Directory.GetFileSystemEntries(sandbox).Where(p => p != cacheDir).ToArray();
            if (outside.Length > 0) throw new FuzzAssertionException($"wrote outside the cache: {string.Join(", ", outside)}");
        });
        Assert.True(accepted > 50, $"only {accepted} references were accepted: the generator is too weak");
    }

    [Fact]
    public void Commit_revisions_use_no_refs_file()
    {
        Assert.True(ModelReference.TryParse("owner/name@0123456789abcdef0123456789abcdef01234567", out var m));
        Assert.True(m.IsCommitHash);
        var cache = new HubCache(_dir.Path);
        Assert.Equal(m.Revision, cache.ResolveCommit(m));
    }
}
