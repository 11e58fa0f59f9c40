namespace Splade.Tensors;

/// <summary>
/// A register-tile row count fixed at compile time: kernels generic over it are compiled once per
/// count, so a short tile (the last rows of a sequence, a 10-token query's second tile) computes only
/// its own rows instead of repeating the last row up to the full tile height.
/// </summary>
internal interface ITileRows
{
    /// <summary>Rows of the tile (1..6).</summary>
    static abstract int Count { get; }
}

internal struct TileRows1 : ITileRows { public static int Count => 1; }
internal struct TileRows2 : ITileRows { public static int Count => 2; }
internal struct TileRows3 : ITileRows { public static int Count => 3; }
internal struct TileRows4 : ITileRows { public static int Count => 4; }
internal struct TileRows5 : ITileRows { public static int Count => 5; }
internal struct TileRows6 : ITileRows { public static int Count => 6; }
