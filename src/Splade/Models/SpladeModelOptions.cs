namespace Splade.Models;

/// <summary>Runtime options of <see cref="SpladeModel"/>.</summary>
public sealed record SpladeModelOptions
{
    /// <summary>Threads used by the kernels (default: all processors). Results do not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
