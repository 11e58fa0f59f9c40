using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Splade.Search.Storage;

/// <summary>
/// A read-only, memory-mapped segment file (layout in <see cref="SegmentFormat"/>). The whole file
/// is checked against its CRC-32C footer (and the manifest's CRC) when opened.
/// </summary>
internal sealed unsafe class Segment : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private readonly long _offTermOffsets, _offTermMax, _offPostDocs, _offPostValues, _offIdOffsets, _offIdBytes, _offTextOffsets, _offTextBytes;
    private readonly long _offUbDenseRow, _offUbDense, _offUbSparseOffsets, _offUbSparseBlocks, _offUbSparseValues,
        _offBlockPairOffsets, _offPairTerms, _offPairPostStart, _offFwdDocs, _offFwdValues;
    private readonly long _ubSparseEntries, _pairs;
    private int _disposed;

    private Segment(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* basePtr, long length, bool checkPostings)
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path);
        _file = file;
        _view = view;
        _base = basePtr;
        _length = length;
        int I32(int at) => BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(basePtr + at, 4));
        long I64(int at) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(basePtr + at, 8));
        Version = I32(SegmentFormat.OffVersion);
        if (Version < SegmentFormat.MinVersion || Version > SegmentFormat.Version)
            throw IndexCorruption.Create(path, "version", $"Index segment '{path}' has format version {Version}; this build reads versions {SegmentFormat.MinVersion} to {SegmentFormat.Version}.");
        Dimension = I32(SegmentFormat.OffDimension);
        DocCount = I32(SegmentFormat.OffDocCount);
        int flags = I32(SegmentFormat.OffFlags);
        HasNegative = (flags & SegmentFormat.FlagHasNegative) != 0;
        HasTexts = (flags & SegmentFormat.FlagHasTexts) != 0;
        PostingCount = I64(SegmentFormat.OffPostingCount);
        _offTermOffsets = I64(SegmentFormat.OffTermOffsets);
        _offTermMax = I64(SegmentFormat.OffTermMax);
        _offPostDocs = I64(SegmentFormat.OffPostDocs);
        _offPostValues = I64(SegmentFormat.OffPostValues);
        _offIdOffsets = I64(SegmentFormat.OffIdOffsets);
        _offIdBytes = I64(SegmentFormat.OffIdBytes);
        _offTextOffsets = I64(SegmentFormat.OffTextOffsets);
        _offTextBytes = I64(SegmentFormat.OffTextBytes);
        long body = I64(SegmentFormat.OffBodyLength);
        if (body + SegmentFormat.FooterBytes != length || Dimension <= 0 || DocCount < 0 || PostingCount < 0 || PostingCount > int.MaxValue)
            throw Corrupt($"inconsistent header (dimension {Dimension}, docs {DocCount}, postings {PostingCount}, body {body}, file {length} bytes)");
        CheckRange(_offTermOffsets, 8L * (Dimension + 1));
        CheckRange(_offTermMax, 4L * Dimension);
        CheckRange(_offPostDocs, 4 * PostingCount);
        CheckRange(_offPostValues, 4 * PostingCount);
        CheckRange(_offIdOffsets, 8L * (DocCount + 1));
        if (HasTexts) CheckRange(_offTextOffsets, 8L * (DocCount + 1));
        if (TermOffsets[Dimension] != PostingCount) throw Corrupt("term offsets do not add up to the posting count");
        if (Version >= 2 && I32(SegmentFormat.OffBlockSize) != 0)
        {
            BlockSize = I32(SegmentFormat.OffBlockSize);
            BlockCount = I32(SegmentFormat.OffBlockCount);
            long offTable = I64(SegmentFormat.OffBlockTable);
            if (BlockSize < 1 || BlockSize > 256 || BlockCount != (DocCount + BlockSize - 1) / BlockSize)
                throw Corrupt($"block size {BlockSize} and block count {BlockCount} do not fit {DocCount} documents");
            CheckRange(offTable, 8L * SegmentFormat.BlockTableLongs);
            var table = new ReadOnlySpan<long>(basePtr + offTable, SegmentFormat.BlockTableLongs);
            DenseRows = (int)table[0];
            _ubSparseEntries = table[1];
            _pairs = table[2];
            if (table[0] < 0 || table[0] > Dimension || _ubSparseEntries < 0 || _ubSparseEntries > int.MaxValue || _pairs < 0 || _pairs >= int.MaxValue)
                throw Corrupt("inconsistent block table counts");
            (_offUbDenseRow, _offUbDense, _offUbSparseOffsets, _offUbSparseBlocks, _offUbSparseValues) = (table[3], table[4], table[5], table[6], table[7]);
            (_offBlockPairOffsets, _offPairTerms, _offPairPostStart, _offFwdDocs, _offFwdValues) = (table[8], table[9], table[10], table[11], table[12]);
            CheckRange(_offUbDenseRow, 4L * Dimension);
            CheckRange(_offUbDense, (long)DenseRows * BlockCount);
            CheckRange(_offUbSparseOffsets, 8L * (Dimension + 1));
            CheckRange(_offUbSparseBlocks, 4 * _ubSparseEntries);
            CheckRange(_offUbSparseValues, _ubSparseEntries);
            CheckRange(_offBlockPairOffsets, 8L * (BlockCount + 1));
            CheckRange(_offPairTerms, 4 * _pairs);
            CheckRange(_offPairPostStart, 4 * (_pairs + 1));
            CheckRange(_offFwdDocs, PostingCount);
            CheckRange(_offFwdValues, 4 * PostingCount);
            if (UbSparseOffsets[Dimension] != _ubSparseEntries || BlockPairOffsets[BlockCount] != _pairs || PairPostStart[(int)_pairs] != PostingCount)
                throw Corrupt("block structure offsets do not add up");
            HasBlocks = true;
        }
        CheckStructure(checkPostings);
    }

    /// <summary>
    /// Checks the offsets that reads index with, so that a file with a valid checksum but inconsistent
    /// content (a faulty writer) is refused here rather than read out of bounds later. The postings
    /// themselves (doc ordinals in range and ascending, finite values) are checked when
    /// <paramref name="checkPostings"/>, which costs one pass like the checksum.
    /// </summary>
    private void CheckStructure(bool checkPostings)
    {
        ReadOnlySpan<long> terms = TermOffsets;
        if (terms[0] != 0) throw Corrupt($"term offsets start at {terms[0]}, not 0");
        for (int t = 0; t < Dimension; t++)
            if (terms[t + 1] < terms[t]) throw Corrupt($"term offsets decrease at term {t}");
        CheckStrings("id", _offIdOffsets, _offIdBytes);
        if (HasTexts) CheckStrings("text", _offTextOffsets, _offTextBytes);
        if (!checkPostings) return;
        ReadOnlySpan<int> docs = AllPostDocs;
        ReadOnlySpan<float> values = AllPostValues;
        for (int t = 0; t < Dimension; t++)
        {
            int previous = -1;
            for (long p = terms[t]; p < terms[t + 1]; p++)
            {
                int d = docs[(int)p];
                if (d <= previous || d >= DocCount) throw Corrupt($"term {t} lists doc {d} after {previous} ({DocCount} docs)");
                if (!float.IsFinite(values[(int)p])) throw Corrupt($"term {t} has a non-finite value for doc {d}");
                previous = d;
            }
        }
    }

    private void CheckStrings(string what, long offOffsets, long offBytes)
    {
        ReadOnlySpan<long> offsets = new(_base + offOffsets, DocCount + 1);
        if (offsets[0] != 0) throw Corrupt($"{what} offsets start at {offsets[0]}, not 0");
        for (int i = 0; i < DocCount; i++)
            if (offsets[i + 1] < offsets[i]) throw Corrupt($"{what} offsets decrease at doc {i}");
        CheckRange(offBytes, offsets[DocCount]);
    }

    public string Path { get; }
    public string Name { get; }
    public int Dimension { get; }
    public int DocCount { get; }
    public long PostingCount { get; }
    public bool HasNegative { get; }
    public bool HasTexts { get; }
    public long FileLength => _length;

    /// <summary>The CRC-32C recorded in the footer.</summary>
    public uint StoredCrc => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_base + _length - SegmentFormat.FooterBytes, 4));
    public int Version { get; }

    /// <summary>True when the segment carries block-max structures (format version 2 and later).</summary>
    public bool HasBlocks { get; }
    public int BlockSize { get; }
    public int BlockCount { get; }
    public int DenseRows { get; }

    /// <summary>Dense upper-bound row of each term, or −1: [Dimension].</summary>
    public ReadOnlySpan<int> UbDenseRow => new(_base + _offUbDenseRow, Dimension);

    /// <summary>One dense row of quantized block maxima: [BlockCount].</summary>
    public ReadOnlySpan<byte> UbDense(int row) => new(_base + _offUbDense + (long)row * BlockCount, BlockCount);

    /// <summary>[Dimension + 1] starts of each term's sparse (block, ub) entries.</summary>
    public ReadOnlySpan<long> UbSparseOffsets => new(_base + _offUbSparseOffsets, Dimension + 1);
    public ReadOnlySpan<int> UbSparseBlocks => new(_base + _offUbSparseBlocks, (int)_ubSparseEntries);
    public ReadOnlySpan<byte> UbSparseValues => new(_base + _offUbSparseValues, (int)_ubSparseEntries);

    /// <summary>[BlockCount + 1] starts of each block's (term, postings) pairs.</summary>
    public ReadOnlySpan<long> BlockPairOffsets => new(_base + _offBlockPairOffsets, BlockCount + 1);
    public ReadOnlySpan<int> PairTerms => new(_base + _offPairTerms, (int)_pairs);
    public ReadOnlySpan<int> PairPostStart => new(_base + _offPairPostStart, (int)_pairs + 1);
    public ReadOnlySpan<byte> FwdDocs => new(_base + _offFwdDocs, (int)PostingCount);
    public ReadOnlySpan<float> FwdValues => new(_base + _offFwdValues, (int)PostingCount);

    /// <summary>Start of each term's postings: [Dimension + 1].</summary>
    public ReadOnlySpan<long> TermOffsets => new(_base + _offTermOffsets, Dimension + 1);

    /// <summary>Largest value of each term in this segment: [Dimension].</summary>
    public ReadOnlySpan<float> TermMax => new(_base + _offTermMax, Dimension);

    public ReadOnlySpan<int> AllPostDocs => new(_base + _offPostDocs, (int)PostingCount);
    public ReadOnlySpan<float> AllPostValues => new(_base + _offPostValues, (int)PostingCount);

    private TermBitmaps? _bitmaps;

    /// <summary>Bitmaps of the frequent terms, built on demand (see <see cref="TermBitmaps"/>).</summary>
    public TermBitmaps Bitmaps => LazyInitializer.EnsureInitialized(ref _bitmaps, () => new TermBitmaps(this));

    /// <summary>Postings of one term: ascending doc ordinals and their values.</summary>
    public ReadOnlySpan<int> Postings(int term, out ReadOnlySpan<float> values)
    {
        long* offsets = (long*)(_base + _offTermOffsets);
        int start = (int)offsets[term];
        int count = (int)(offsets[term + 1] - start);
        values = new ReadOnlySpan<float>(_base + _offPostValues + 4L * start, count);
        return new ReadOnlySpan<int>(_base + _offPostDocs + 4L * start, count);
    }

    public string GetId(int ord) => ReadString(_offIdOffsets, _offIdBytes, ord);

    public string? GetText(int ord) => HasTexts ? ReadString(_offTextOffsets, _offTextBytes, ord) : null;

    private string ReadString(long offOffsets, long offBytes, int ord)
    {
        long* offsets = (long*)(_base + offOffsets);
        long a = offsets[ord], b = offsets[ord + 1];
        if (a < 0 || b < a || offBytes + b > _length - SegmentFormat.FooterBytes) throw Corrupt($"string {ord} out of range");
        return Encoding.UTF8.GetString(_base + offBytes + a, (int)(b - a));
    }

    /// <summary>Maps a segment file, checks its footer and (optionally) its CRC against <paramref name="expectedCrc"/>.</summary>
    public static Segment Open(string path, uint? expectedCrc, bool verifyChecksum)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw IndexCorruption.Create(path, "missing", $"Index segment '{path}' is missing.");
        long length = info.Length;
        if (length < SegmentFormat.HeaderBytes + SegmentFormat.FooterBytes)
            throw IndexCorruption.Create(path, "size", $"Index segment '{path}' is truncated ({length} bytes).");
        MemoryMappedFile file;
        try
        {
            file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Removed since the check above (a writer's merge, seen by a reader opening beside it).
            throw IndexCorruption.Create(path, "missing", $"Index segment '{path}' is missing.", e);
        }
        MemoryMappedViewAccessor? view = null;
        bool ok = false, acquired = false;
        try
        {
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            acquired = true;
            p += view.PointerOffset;
            if (!new ReadOnlySpan<byte>(p, 8).SequenceEqual(SegmentFormat.Magic))
                throw IndexCorruption.Create(path, "header", $"Index segment '{path}' does not start with the segment magic.");
            var footer = new ReadOnlySpan<byte>(p + length - SegmentFormat.FooterBytes, SegmentFormat.FooterBytes);
            if (!footer[4..].SequenceEqual(SegmentFormat.FooterMagic))
                throw IndexCorruption.Create(path, "size", $"Index segment '{path}' has no footer (torn or truncated write).");
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(footer);
            if (expectedCrc is uint e && e != stored)
                throw IndexCorruption.Create(path, "crc", $"Index segment '{path}': footer CRC {stored:x8} differs from the manifest's {e:x8}.");
            if (verifyChecksum)
            {
                uint crc = 0;
                for (long at = 0; at < length - SegmentFormat.FooterBytes; at += 1 << 30)
                {
                    int n = (int)Math.Min(1 << 30, length - SegmentFormat.FooterBytes - at);
                    crc = Crc32C.Append(crc, new ReadOnlySpan<byte>(p + at, n));
                }
                if (crc != stored) throw IndexCorruption.Create(path, "crc", $"Index segment '{path}' is corrupt: CRC-32C {crc:x8}, expected {stored:x8}.");
            }
            var segment = new Segment(path, file, view, p, length, checkPostings: verifyChecksum);
            ok = true;
            return segment;
        }
        finally
        {
            if (!ok)
            {
                if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
                view?.Dispose();
                file.Dispose();
            }
        }
    }

    private void CheckRange(long offset, long bytes)
    {
        // Written without offset + bytes, which overflows for offsets near long.MaxValue.
        if (offset < SegmentFormat.HeaderBytes || bytes < 0 || offset > _length - SegmentFormat.FooterBytes || bytes > _length - SegmentFormat.FooterBytes - offset)
            throw Corrupt($"section at {offset} (+{bytes} bytes) lies outside the file");
    }

    private InvalidDataException Corrupt(string what) => IndexCorruption.Create(Path, "structure", $"Index segment '{Path}' is corrupt: {what}.");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
