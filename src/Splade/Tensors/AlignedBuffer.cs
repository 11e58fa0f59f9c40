using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Splade.Tensors;

/// <summary>
/// A pinned array whose visible part starts on a 64-byte boundary, so that every 64-byte vector load of
/// packed weights stays within one cache line (a plain managed array is only 16-byte aligned, so its
/// 64-byte loads can each touch two lines, depending on where the allocator put it).
/// </summary>
internal sealed class AlignedBuffer<T> where T : unmanaged
{
    private const int Alignment = 64;
    private readonly T[] _storage;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed elements.</summary>
    public unsafe AlignedBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int size = Unsafe.SizeOf<T>();
        _storage = GC.AllocateArray<T>(checked((int)length + Alignment / size), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _offset = (int)((Alignment - address % Alignment) % Alignment) / size;
        Length = (int)length;
    }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The aligned elements (pinned: pointers taken from it stay valid).</summary>
    public Span<T> Span => _storage.AsSpan(_offset, Length);
}
