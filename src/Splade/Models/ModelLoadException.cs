namespace Splade.Models;

/// <summary>A model file is missing, malformed or does not match its configuration. The message names the file (and tensor or field).</summary>
public sealed class ModelLoadException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    public ModelLoadException(string filePath, string message, Exception? inner = null)
        : base($"{filePath}: {message}", inner)
    {
        FilePath = filePath;
    }

    /// <summary>The offending file.</summary>
    public string FilePath { get; }
}
