using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Splade.Search.Storage;

/// <summary>
/// On-disk layout of one immutable segment file (little-endian, every section 64-byte aligned):
/// <code>
/// header (128 B): magic "SPLDSEG1", version, dimension, docCount, flags, postingCount, section offsets
/// termOffsets  long[dimension + 1]   start of each term's postings
/// termMax      float[dimension]      largest value of each term (upper bound for pruning)
/// postDocs     int[postings]         doc ordinals, ascending within a term
/// postValues   float[postings]
/// idOffsets    long[docCount + 1], idBytes (UTF-8)
/// textOffsets  long[docCount + 1], textBytes (UTF-8), only when flags has HasTexts
/// blockTable   (version 2) long[13]: denseRows, sparseEntries, pairs, then the offsets of
///              ubDenseRow int[dimension], ubDense byte[denseRows × blockCount],
///              ubSparseOffsets long[dimension + 1], ubSparseBlocks int[sparseEntries], ubSparseValues byte[sparseEntries],
///              blockPairOffsets long[blockCount + 1], pairTerms int[pairs], pairPostStart int[pairs + 1],
///              fwdDocs byte[postings], fwdValues float[postings]   (see <see cref="BlockIndexData"/>)
/// footer (8 B): CRC-32C of everything before it, then "SEGE"
/// </code>
/// Version 1 files (no block structures) still open; they are searched without block-max pruning.
/// </summary>
internal static class SegmentFormat
{
    public const int HeaderBytes = 128;
    public const int FooterBytes = 8;
    public const int Version = 2;
    public const int MinVersion = 1;
    public const int BlockTableLongs = 13;
    public static ReadOnlySpan<byte> Magic => "SPLDSEG1"u8;
    public static ReadOnlySpan<byte> FooterMagic => "SEGE"u8;

    public const int FlagHasNegative = 1;
    public const int FlagHasTexts = 2;

    // Header field positions.
    public const int OffVersion = 8, OffDimension = 12, OffDocCount = 16, OffFlags = 20, OffPostingCount = 24,
        OffTermOffsets = 32, OffTermMax = 40, OffPostDocs = 48, OffPostValues = 56, OffIdOffsets = 64,
        OffIdBytes = 72, OffTextOffsets = 80, OffTextBytes = 88, OffBodyLength = 96,
        OffBlockSize = 104, OffBlockCount = 108, OffBlockTable = 112;

    /// <summary>Writes <paramref name="data"/> to a new file; returns its length and CRC.</summary>
    public static (long Length, uint Crc) Write(string path, SegmentData data, DurableIo io, int blockSize = 0)
    {
        string name = Path.GetFileName(path);
        int dim = data.Dimension, n = data.DocCount;
        long postings = data.PostDocs.Length;

        var termMax = new float[dim];
        bool hasNegative = false;
        for (int t = 0; t < dim; t++)
        {
            float m = 0f;
            for (long p = data.TermOffsets[t]; p < data.TermOffsets[t + 1]; p++)
            {
                float v = data.PostValues[p];
                if (v < 0f) hasNegative = true;
                if (v > m) m = v;
            }
            termMax[t] = m;
        }
        var (idOffsets, idBytes) = EncodeStrings(n, i => data.Ids[i]);
        long[]? textOffsets = null;
        byte[]? textBytes = null;
        if (data.Texts is not null) (textOffsets, textBytes) = EncodeStrings(n, i => data.Texts[i] ?? "");

        long pos = HeaderBytes;
        long Place(long bytes) { long at = pos; pos = Align(pos + bytes); return at; }
        long offTermOffsets = Place(8L * (dim + 1));
        long offTermMax = Place(4L * dim);
        long offPostDocs = Place(4 * postings);
        long offPostValues = Place(4 * postings);
        long offIdOffsets = Place(8L * (n + 1));
        long offIdBytes = Place(idBytes.Length);
        long offTextOffsets = 0, offTextBytes = 0;
        if (textOffsets is not null)
        {
            offTextOffsets = Place(8L * (n + 1));
            offTextBytes = Place(textBytes!.Length);
        }
        // Block size 0: no block structures (the segment is searched without block-max pruning).
        var blocks = blockSize == 0 ? BlockIndexData.Empty : BlockIndexData.Build(data, termMax, blockSize);
        long offBlockTable = Place(8L * BlockTableLongs);
        long offUbDenseRow = Place(4L * dim);
        long offUbDense = Place(blocks.UbDense.LongLength);
        long offUbSparseOffsets = Place(8L * (dim + 1));
        long offUbSparseBlocks = Place(4L * blocks.UbSparseBlocks.LongLength);
        long offUbSparseValues = Place(blocks.UbSparseValues.LongLength);
        long offBlockPairOffsets = Place(8L * blocks.BlockPairOffsets.LongLength);
        long offPairTerms = Place(4L * blocks.PairTerms.LongLength);
        long offPairPostStart = Place(4L * blocks.PairPostStart.LongLength);
        long offFwdDocs = Place(blocks.FwdDocs.LongLength);
        long offFwdValues = Place(4L * blocks.FwdValues.LongLength);
        long[] blockTable =
        [
            blocks.DenseRows, blocks.UbSparseBlocks.LongLength, blocks.PairTerms.LongLength,
            offUbDenseRow, offUbDense, offUbSparseOffsets, offUbSparseBlocks, offUbSparseValues,
            offBlockPairOffsets, offPairTerms, offPairPostStart, offFwdDocs, offFwdValues,
        ];
        long bodyLength = pos;

        var header = new byte[HeaderBytes];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(OffVersion), Version);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(OffDimension), dim);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(OffDocCount), n);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(OffFlags), (hasNegative ? FlagHasNegative : 0) | (textOffsets is not null ? FlagHasTexts : 0));
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffPostingCount), postings);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffTermOffsets), offTermOffsets);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffTermMax), offTermMax);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffPostDocs), offPostDocs);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffPostValues), offPostValues);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffIdOffsets), offIdOffsets);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffIdBytes), offIdBytes);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffTextOffsets), offTextOffsets);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffTextBytes), offTextBytes);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffBodyLength), bodyLength);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(OffBlockSize), blocks.BlockSize);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(OffBlockCount), blocks.BlockCount);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(OffBlockTable), offBlockTable);

        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The index format is little-endian.");
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var w = new Writer(fs, io, name);
        w.Put(header);
        w.PadTo(offTermOffsets); w.Put(MemoryMarshal.AsBytes(data.TermOffsets.AsSpan()));
        w.PadTo(offTermMax); w.Put(MemoryMarshal.AsBytes(termMax.AsSpan()));
        w.PadTo(offPostDocs); w.PutArray(data.PostDocs);
        w.PadTo(offPostValues); w.PutArray(data.PostValues);
        w.PadTo(offIdOffsets); w.Put(MemoryMarshal.AsBytes(idOffsets.AsSpan()));
        w.PadTo(offIdBytes); w.Put(idBytes);
        if (textOffsets is not null)
        {
            w.PadTo(offTextOffsets); w.Put(MemoryMarshal.AsBytes(textOffsets.AsSpan()));
            w.PadTo(offTextBytes); w.Put(textBytes);
        }
        w.PadTo(offBlockTable); w.PutArray(blockTable);
        w.PadTo(offUbDenseRow); w.PutArray(blocks.UbDenseRow);
        w.PadTo(offUbDense); w.PutArray(blocks.UbDense);
        w.PadTo(offUbSparseOffsets); w.PutArray(blocks.UbSparseOffsets);
        w.PadTo(offUbSparseBlocks); w.PutArray(blocks.UbSparseBlocks);
        w.PadTo(offUbSparseValues); w.PutArray(blocks.UbSparseValues);
        w.PadTo(offBlockPairOffsets); w.PutArray(blocks.BlockPairOffsets);
        w.PadTo(offPairTerms); w.PutArray(blocks.PairTerms);
        w.PadTo(offPairPostStart); w.PutArray(blocks.PairPostStart);
        w.PadTo(offFwdDocs); w.PutArray(blocks.FwdDocs);
        w.PadTo(offFwdValues); w.PutArray(blocks.FwdValues);
        w.PadTo(bodyLength);
        uint crc = w.Crc;
        var footer = new byte[FooterBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, crc);
        FooterMagic.CopyTo(footer.AsSpan(4));
        w.PutRaw(footer);
        io.Fsync(fs, name);
        return (bodyLength + FooterBytes, crc);
    }

    private static long Align(long x) => (x + 63) & ~63L;

    private static (long[] Offsets, byte[] Bytes) EncodeStrings(int n, Func<int, string> get)
    {
        var offsets = new long[n + 1];
        using var ms = new MemoryStream();
        for (int i = 0; i < n; i++)
        {
            string s = get(i);
            byte[] b = Encoding.UTF8.GetBytes(s);
            ms.Write(b);
            offsets[i + 1] = ms.Length;
        }
        return (offsets, ms.ToArray());
    }

    private sealed class Writer(FileStream fs, DurableIo io, string name)
    {
        private static readonly byte[] Zeros = new byte[64];
        private long _pos;
        public uint Crc { get; private set; }

        public void Put(ReadOnlySpan<byte> bytes)
        {
            Crc = Crc32C.Append(Crc, bytes);
            PutRaw(bytes);
        }

        /// <summary>Writes an array of primitives in pieces (a span of bytes cannot exceed 2 GiB).</summary>
        public void PutArray<T>(T[] array) where T : unmanaged
        {
            const int Piece = 1 << 26;
            for (long at = 0; at < array.LongLength; at += Piece)
                Put(MemoryMarshal.AsBytes(array.AsSpan((int)at, (int)Math.Min(Piece, array.LongLength - at))));
        }

        public void PutRaw(ReadOnlySpan<byte> bytes)
        {
            io.WriteChunked(fs, bytes, name);
            _pos += bytes.Length;
        }

        public void PadTo(long target)
        {
            while (_pos < target) Put(Zeros.AsSpan(0, (int)Math.Min(64, target - _pos)));
        }
    }
}
