using System.Globalization;

namespace Splade.Cli;

/// <summary>
/// Parsed `--name value` / `--flag` options and positional arguments of one verb.
/// Unknown options are an error once the verb has read what it knows (<see cref="ThrowOnUnused"/>).
/// </summary>
internal sealed class CommandArgs
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CommandArgs(IReadOnlyList<string> argv, IReadOnlySet<string>? flagNames = null)
    {
        var positional = new List<string>();
        for (int i = 0; i < argv.Count; i++)
        {
            string a = argv[i];
            if (a == "--")
            {
                positional.AddRange(argv.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                if (value is null && (flagNames?.Contains(name) == true || i + 1 >= argv.Count || (argv[i + 1].StartsWith("--", StringComparison.Ordinal) && argv[i + 1].Length > 2)))
                {
                    _flags.Add(name);
                    continue;
                }
                value ??= argv[++i];
                if (!_options.TryGetValue(name, out var list)) _options[name] = list = new List<string>();
                list.Add(value);
            }
            else positional.Add(a);
        }
        Positional = positional;
    }

    public IReadOnlyList<string> Positional { get; }

    public bool Has(string name) { _used.Add(name); return _flags.Contains(name) || _options.ContainsKey(name); }

    public bool Flag(string name)
    {
        _used.Add(name);
        if (_options.TryGetValue(name, out var v))
        {
            string s = v[^1].ToLowerInvariant();
            if (s is "true" or "1" or "yes") return true;
            if (s is "false" or "0" or "no") return false;
            throw new CliException($"--{name}: expected true or false, got '{v[^1]}'.");
        }
        return _flags.Contains(name);
    }

    public string? Get(string name)
    {
        _used.Add(name);
        if (_flags.Contains(name)) throw new CliException($"--{name} needs a value.");
        return _options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    /// <summary>An option that may be given bare (<c>--name</c>) or with a value (<c>--name VALUE</c>): whether it was given, and its value.</summary>
    public bool FlagOrValue(string name, out string? value)
    {
        _used.Add(name);
        value = _options.TryGetValue(name, out var v) ? v[^1] : null;
        return value is not null || _flags.Contains(name);
    }

    public IReadOnlyList<string> GetAll(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var v) ? v : Array.Empty<string>();
    }

    public string Require(string name) => Get(name) ?? throw new CliException($"--{name} is required.");

    public int? GetInt(string name, int? min = null, int? max = null)
    {
        string? s = Get(name);
        if (s is null) return null;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new CliException($"--{name}: '{s}' is not an integer.");
        if (min is not null && v < min) throw new CliException($"--{name}: {v} is below the minimum {min}.");
        if (max is not null && v > max) throw new CliException($"--{name}: {v} is above the maximum {max}.");
        return v;
    }

    public double? GetDouble(string name)
    {
        string? s = Get(name);
        if (s is null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new CliException($"--{name}: '{s}' is not a number.");
        return v;
    }

    /// <summary>Fails on any option the verb did not read (catches typos such as --top_k).</summary>
    public void ThrowOnUnused()
    {
        var unknown = _options.Keys.Concat(_flags).Where(k => !_used.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new CliException($"unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}.");
    }
}
