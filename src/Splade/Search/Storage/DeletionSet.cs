using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Splade.Search.Storage;

/// <summary>
/// Tombstones of one segment: a bitset over its doc ordinals. Immutable once published; a commit
/// that deletes more writes a new file (<c>seg_N.gG.del</c>) rather than editing the old one.
/// File: "SPLDDEL1", int docCount, int deletedCount, ulong[(docCount+63)/64] bits, CRC-32C footer, "DELE".
/// </summary>
internal sealed class DeletionSet
{
    private static ReadOnlySpan<byte> Magic => "SPLDDEL1"u8;
    private static ReadOnlySpan<byte> FooterMagic => "DELE"u8;
    private readonly ulong[] _bits;

    public DeletionSet(int docCount)
    {
        DocCount = docCount;
        _bits = new ulong[(docCount + 63) / 64];
    }

    private DeletionSet(int docCount, ulong[] bits)
    {
        DocCount = docCount;
        _bits = bits;
        foreach (ulong w in bits) Count += BitOperations.PopCount(w);
    }

    public int DocCount { get; }

    /// <summary>Number of deleted ordinals.</summary>
    public int Count { get; private set; }

    public bool IsDeleted(int ord) => (_bits[ord >> 6] & (1UL << ord)) != 0;

    /// <summary>Marks an ordinal deleted; returns false when it already was.</summary>
    public bool Add(int ord)
    {
        ref ulong w = ref _bits[ord >> 6];
        ulong m = 1UL << ord;
        if ((w & m) != 0) return false;
        w |= m;
        Count++;
        return true;
    }

    public DeletionSet Clone() => new(DocCount, (ulong[])_bits.Clone());

    public byte[] Serialize()
    {
        var bytes = new byte[16 + 8 * _bits.Length + 8];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), DocCount);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), Count);
        MemoryMarshal.AsBytes(_bits.AsSpan()).CopyTo(bytes.AsSpan(16));
        int body = bytes.Length - 8;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(body), Crc32C.Compute(bytes.AsSpan(0, body)));
        FooterMagic.CopyTo(bytes.AsSpan(body + 4));
        return bytes;
    }

    public static DeletionSet Read(string path, int expectedDocCount, uint? expectedCrc)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception x) when (x is FileNotFoundException or DirectoryNotFoundException)
        {
            throw IndexCorruption.Create(path, "missing", $"Deletion file '{path}' is missing.", x);
        }
        int words = (expectedDocCount + 63) / 64;
        if (bytes.Length != 16 + 8 * words + 8)
            throw IndexCorruption.Create(path, "size", $"Deletion file '{path}' is truncated or not a deletion file ({bytes.Length} bytes, expected {16 + 8 * words + 8}).");
        if (!bytes.AsSpan(0, 8).SequenceEqual(Magic) || !bytes.AsSpan(bytes.Length - 4).SequenceEqual(FooterMagic))
            throw IndexCorruption.Create(path, "header", $"Deletion file '{path}' lacks the deletion-file magic or footer.");
        int body = bytes.Length - 8;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(body));
        uint crc = Crc32C.Compute(bytes.AsSpan(0, body));
        if (crc != stored || (expectedCrc is uint e && e != stored))
            throw IndexCorruption.Create(path, "crc", $"Deletion file '{path}' is corrupt: CRC-32C {crc:x8}, expected {expectedCrc ?? stored:x8}.");
        int docCount = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        if (docCount != expectedDocCount) throw IndexCorruption.Create(path, "structure", $"Deletion file '{path}' covers {docCount} documents, its segment has {expectedDocCount}.");
        var bits = MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan(16, 8 * words)).ToArray();
        return new DeletionSet(docCount, bits);
    }

    public static uint CrcOf(byte[] serialized) => BinaryPrimitives.ReadUInt32LittleEndian(serialized.AsSpan(serialized.Length - 8));
}
