namespace Splade.Models;

/// <summary>
/// A view of a safetensors file under a name prefix, so that loading code reads like the checkpoint
/// (<c>vb.Pp("encoder").Pp("layer.0").Get("attention.self.query.weight", h, h)</c>). Every load checks
/// the shape. Legacy names are accepted: <c>LayerNorm.gamma/beta</c> for <c>weight/bias</c>, and
/// names with or without the <c>bert.</c> prefix (BertModel checkpoints drop it).
/// </summary>
public sealed class WeightView
{
    private readonly SafeTensorsFile _file;
    private readonly string _prefix;

    /// <summary>A root view of <paramref name="file"/>.</summary>
    public WeightView(SafeTensorsFile file) : this(file, "") { }

    private WeightView(SafeTensorsFile file, string prefix)
    {
        _file = file;
        _prefix = prefix;
    }

    /// <summary>The underlying file.</summary>
    public SafeTensorsFile File => _file;

    /// <summary>The prefix of this view ("" at the root).</summary>
    public string Prefix => _prefix;

    /// <summary>A view one level down: names get <c>prefix.</c> in front.</summary>
    public WeightView Pp(string prefix) => new(_file, Join(_prefix, prefix));

    /// <summary>Whether a tensor named <paramref name="name"/> (under this prefix, with fallbacks) exists.</summary>
    public bool Contains(string name) => Resolve(Join(_prefix, name)) is not null;

    /// <summary>Loads a float tensor and checks it has exactly <paramref name="shape"/>.</summary>
    /// <exception cref="ModelLoadException">Missing tensor or wrong shape; the message names the file, tensor, expected and actual shape.</exception>
    public float[] Get(string name, params int[] shape) =>
        TryGet(name, shape) ?? throw new ModelLoadException(_file.Path, $"tensor '{Join(_prefix, name)}' not found (expected shape {SafeTensorsFile.FormatShape(shape)}).");

    /// <summary>Like <see cref="Get"/> but returns null when the tensor is absent (a wrong shape still throws).</summary>
    public float[]? TryGet(string name, params int[] shape)
    {
        string fullName = Join(_prefix, name);
        SafeTensorInfo? info = Resolve(fullName);
        if (info is null) return null;
        if (!info.Shape.SequenceEqual(shape))
            throw new ModelLoadException(_file.Path,
                $"tensor '{info.Name}' has shape {info.ShapeText} but the configuration expects {SafeTensorsFile.FormatShape(shape)}.");
        return _file.ReadFloat32(info.Name);
    }

    private SafeTensorInfo? Resolve(string fullName)
    {
        foreach (string candidate in Candidates(fullName))
            if (_file.Tensors.TryGetValue(candidate, out SafeTensorInfo? info)) return info;
        return null;
    }

    private static IEnumerable<string> Candidates(string name)
    {
        foreach (string spelled in Spellings(name))
        {
            yield return spelled;
            if (spelled.StartsWith("bert.", StringComparison.Ordinal)) yield return spelled["bert.".Length..];
            else yield return "bert." + spelled;
        }
    }

    private static IEnumerable<string> Spellings(string name)
    {
        yield return name;
        if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) yield return name[..^"weight".Length] + "gamma";
        if (name.EndsWith("LayerNorm.bias", StringComparison.Ordinal)) yield return name[..^"bias".Length] + "beta";
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : name.Length == 0 ? prefix : prefix + "." + name;
}
