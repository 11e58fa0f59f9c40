using System.Buffers.Binary;
using System.Text;
using Splade.Search;
using Splade.Search.Storage;
using Splade.Sparse;
using Splade.Tests.Models;

namespace Splade.Tests.Fuzz;

/// <summary>
/// Corrupt index files (MANIFEST, segments, deletion files) fail to open with an
/// <see cref="InvalidDataException"/> naming the file. Two levels: raw corruption (caught by the
/// checksums; anything that still opens must search exactly like the original), and corruption
/// written with consistent checksums (a buggy writer): the structure checks must catch it, and
/// whatever opens must search without any other exception.
/// </summary>
public sealed class IndexFileFuzzTests : IDisposable
{
    private const int Dimension = 200;
    private readonly TempFolder _dir = new();
    private readonly string _pristine;
    private readonly SparseVector[] _queries;
    private readonly string[] _expected;

    public IndexFileFuzzTests()
    {
        _pristine = Path.Combine(_dir.Path, "pristine");
        var data = new SyntheticSparseData(5, Dimension);
        var docs = data.Documents(40, 12, "d").Select(d => d with { Text = "text of " + d.Id }).ToList();
        using (var index = InvertedIndex.Create(_pristine, Dimension))
        {
            index.Upsert(docs.Take(25).ToList());
            index.Commit();
            index.Upsert(docs.Skip(25).ToList());
            index.Delete("d3");
            index.Delete("d30");
            index.Commit();
        }
        _queries = data.Documents(6, 8, "q").Select(d => d.Vector).ToArray();
        _expected = Observe(_pristine);
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Everything a reader can see of an index, as text: searches with both algorithms and the export.</summary>
    private string[] Observe(string directory)
    {
        using var index = InvertedIndex.Open(directory, new InvertedIndexOptions { ReadOnly = true });
        var seen = new List<string>();
        foreach (var q in _queries)
            foreach (var algorithm in new[] { SearchAlgorithm.MaxScore, SearchAlgorithm.Exhaustive })
                seen.Add(string.Join(" ", index.Search(q, 7, algorithm).Select(h => $"{h.Id}:{h.Score:R}:{h.Text}")));
        seen.Add(string.Join(" ", index.ExportDocuments().Select(d => $"{d.Id}:{d.Vector.Count}:{d.Text}")));
        seen.Add($"count {index.Count}");
        return seen.ToArray();
    }

    private string[] Files() => Directory.GetFiles(_pristine).Select(Path.GetFileName).Where(f => f != "LOCK").ToArray()!;

    /// <summary>A fresh copy of the pristine index.</summary>
    private string Copy(int iteration)
    {
        string target = Path.Combine(_dir.Path, "case" + iteration);
        Directory.CreateDirectory(target);
        foreach (string f in Files()) File.Copy(Path.Combine(_pristine, f), Path.Combine(target, f));
        return target;
    }

    private static string? NamesAFileIn(InvalidDataException e, string directory) =>
        e.Message.Contains(directory, StringComparison.Ordinal) ? null : $"expected a path under {directory}";

    [Fact]
    public void Pristine_index_reopens_identically()
    {
        Assert.Contains(Files(), f => f.EndsWith(".del", StringComparison.Ordinal));
        Assert.True(Files().Count(f => f.EndsWith(".seg", StringComparison.Ordinal)) >= 2);
        Assert.Equal(_expected, Observe(_pristine));
    }

    [Fact]
    public void Corrupt_bytes_are_caught_or_harmless()
    {
        string[] files = Files();
        FuzzRunner.Run("index bytes", 51, FuzzRunner.Iterations(300), (r, i) =>
        {
            string file = files[r.Next(files.Length)];
            return (Iteration: i, File: file, Mutant: Mutate.Bytes(r, File.ReadAllBytes(Path.Combine(_pristine, file))));
        }, c => $"{c.File}: {c.Mutant.What}", c =>
        {
            string dir = Copy(c.Iteration);
            File.WriteAllBytes(Path.Combine(dir, c.File), c.Mutant.Data);
            string[]? seen = null;
            FuzzRunner.ParsesOrThrows<InvalidDataException>(() => seen = Observe(dir), e => NamesAFileIn(e, dir));
            if (seen is not null && !seen.SequenceEqual(_expected))
                throw new FuzzAssertionException("a corrupt index opened and answered differently");
            Directory.Delete(dir, recursive: true);
        });
    }

    [Fact]
    public void Corruption_with_consistent_checksums_is_caught_or_served_safely()
    {
        string[] files = Files();
        FuzzRunner.Run("index structure", 52, FuzzRunner.Iterations(400), (r, i) =>
        {
            string file = files[r.Next(files.Length)];
            byte[] original = File.ReadAllBytes(Path.Combine(_pristine, file));
            Mutant m = file == Manifest.FileName ? MutateManifest(r, original)
                : file.EndsWith(".seg", StringComparison.Ordinal) ? MutateSegment(r, original)
                : MutateBody(r, original, "DELE"u8);
            return (Iteration: i, File: file, Mutant: m);
        }, c => $"{c.File}: {c.Mutant.What}", c =>
        {
            string dir = Copy(c.Iteration);
            string path = Path.Combine(dir, c.File);
            File.WriteAllBytes(path, c.Mutant.Data);
            if (c.File != Manifest.FileName) RewriteManifestCrc(dir, c.File, c.Mutant.Data);
            FuzzRunner.ParsesOrThrows<InvalidDataException>(() => Observe(dir), e => NamesAFileIn(e, dir));
            Directory.Delete(dir, recursive: true);
        });
    }

    private static Mutant MutateManifest(Random r, byte[] original)
    {
        int nl = Array.IndexOf(original, (byte)'\n');
        Mutant m = Mutate.Json(r, Encoding.UTF8.GetString(original, nl + 1, original.Length - nl - 1));
        string head = $"SPLADE-INDEX-MANIFEST 1 crc32c={Crc32C.Compute(m.Data):x8} bytes={m.Data.Length}\n";
        return new Mutant([.. Encoding.ASCII.GetBytes(head), .. m.Data], m.What);
    }

    private static readonly long[] InterestingNumbers = [0, 1, -1, 2, 63, 64, 127, 128, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue, 1L << 32, 199, 200, 201, 40];

    private static Mutant MutateSegment(Random r, byte[] original)
    {
        byte[] body = original[..^SegmentFormat.FooterBytes];
        string what;
        switch (r.Next(3))
        {
            case 0:
            {
                // A header field (int32 at 8..24, int64 at 24..104).
                int at = r.Next(2) == 0 ? 8 + 4 * r.Next(4) : 24 + 8 * r.Next(10);
                long v = InterestingNumbers[r.Next(InterestingNumbers.Length)];
                if (at < 24) BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(at), (int)v);
                else BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(at), v);
                what = $"header field at {at} := {v}";
                break;
            }
            case 1:
            {
                // A number somewhere in the sections (term offsets, doc ordinals, string offsets).
                int at = SegmentFormat.HeaderBytes + 4 * r.Next((body.Length - SegmentFormat.HeaderBytes) / 4 - 1);
                long v = InterestingNumbers[r.Next(InterestingNumbers.Length)] + r.Next(-2, 3);
                if (r.Next(2) == 0) BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(at), (int)v);
                else BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(at), v);
                what = $"section value at {at} := {v}";
                break;
            }
            default:
            {
                Mutant m = Mutate.Bytes(r, body);
                body = m.Data;
                what = m.What;
                break;
            }
        }
        return WithFooter(body, "SEGE"u8, what);
    }

    private static Mutant MutateBody(Random r, byte[] original, ReadOnlySpan<byte> footerMagic)
    {
        Mutant m = Mutate.Bytes(r, original[..^8]);
        return WithFooter(m.Data, footerMagic, m.What);
    }

    private static Mutant WithFooter(byte[] body, ReadOnlySpan<byte> magic, string what)
    {
        var file = new byte[body.Length + 8];
        body.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(body.Length), Crc32C.Compute(body));
        magic.CopyTo(file.AsSpan(body.Length + 4));
        return new Mutant(file, what + " (checksums recomputed)");
    }

    /// <summary>Points the manifest at the new checksum of <paramref name="file"/>, as a writer of that file would.</summary>
    private static void RewriteManifestCrc(string dir, string file, byte[] data)
    {
        var manifest = Manifest.Read(dir);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(Math.Max(0, data.Length - 8)));
        var segments = manifest.Segments.Select(s =>
            s.File == file ? s with { Crc = crc, Bytes = data.Length }
            : s.DeletesFile == file ? s with { DeletesCrc = crc }
            : s).ToList();
        File.WriteAllBytes(Path.Combine(dir, Manifest.FileName), (manifest with { Segments = segments }).Serialize());
    }
}
