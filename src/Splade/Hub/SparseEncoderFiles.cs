namespace Splade.Hub;

/// <summary>
/// Which files of a repository a sparse encoder needs: configuration (<c>*.json</c> in any folder, so module
/// folders such as <c>1_SpladePooling/</c> and Router routes come along), <c>*.safetensors</c> weights, tokenizer
/// files (<c>vocab.txt</c> and other <c>*.txt</c>, SentencePiece <c>*.model</c>) and <c>README.md</c>.
/// Exports (<c>onnx/</c>, <c>openvino/</c>) and other weight formats (<c>*.bin</c>, <c>*.h5</c>, <c>*.msgpack</c>,
/// <c>*.ot</c>, <c>*.onnx</c>, <c>*.pt</c>) are skipped.
/// </summary>
public static class SparseEncoderFiles
{
    private static readonly string[] SkippedFolders = ["onnx", "openvino"];
    private static readonly string[] WantedExtensions = [".json", ".safetensors", ".txt", ".model"];
    private static readonly string[] OtherWeightExtensions = [".bin", ".h5", ".msgpack", ".ot", ".onnx", ".pt", ".pth", ".ckpt"];

    /// <summary>True when <paramref name="repoPath"/> ('/'-separated) is one of the files a sparse encoder reads.</summary>
    public static bool IsWanted(string repoPath)
    {
        var segments = repoPath.Split('/');
        if (segments.SkipLast(1).Any(s => SkippedFolders.Contains(s, StringComparer.OrdinalIgnoreCase))) return false;
        string name = segments[^1];
        if (name.StartsWith('.')) return false; // .gitattributes and the like
        if (OtherWeightExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase))) return false;
        if (name.Equals("README.md", StringComparison.OrdinalIgnoreCase)) return true;
        return WantedExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The wanted files among <paramref name="repoFiles"/>, in their listed order.
    /// </summary>
    /// <exception cref="UnsupportedWeightsException">The repository has no <c>*.safetensors</c> file but has
    /// weights in another format (e.g. <c>pytorch_model.bin</c>).</exception>
    public static IReadOnlyList<string> Select(IReadOnlyList<string> repoFiles, string repoId)
    {
        bool hasSafetensors = repoFiles.Any(f => f.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase));
        if (!hasSafetensors)
        {
            var other = repoFiles.Where(f => OtherWeightExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase))
                                             && !f.Split('/').SkipLast(1).Any(s => SkippedFolders.Contains(s, StringComparer.OrdinalIgnoreCase)))
                                 .ToArray();
            if (other.Length > 0)
                throw new UnsupportedWeightsException(
                    $"{repoId} has no *.safetensors weights, only {string.Join(", ", other.Take(5))}: safetensors weights are required "
                    + "(pickled PyTorch and other formats are not read). Convert the model with safetensors' convert script or "
                    + "save it with safe_serialization=True, then use that repository or folder.");
        }
        return repoFiles.Where(IsWanted).ToArray();
    }
}
