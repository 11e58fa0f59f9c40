using System.Globalization;
using Splade.Hub;

namespace Splade.Cli.Commands;

/// <summary>`splade download`: fetches a model from the Hub into the shared Hugging Face cache and prints its folder.</summary>
internal sealed class DownloadCommand : ICommand
{
    public string Name => "download";

    public string Summary => "Download a model from the Hugging Face Hub into the local cache.";

    public string Usage => """
        Usage: splade download --model owner/name[@revision] [--cache-dir DIR] [--offline] [--endpoint URL]

        Downloads what a sparse encoder needs (configuration, tokenizer, *.safetensors) into the Hugging Face
        cache shared with Python tools, then prints the local snapshot folder on stdout. Progress goes to stderr.

          --model      Hub id, e.g. rasyosef/SPLADE-BERT-Mini or rasyosef/SPLADE-BERT-Mini@main (also positional)
          --cache-dir  cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)
          --offline    use the cache only, send no request (same as HF_HUB_OFFLINE=1)
          --endpoint   Hub URL (default: HF_ENDPOINT, else https://huggingface.co)

        The token is read from HF_TOKEN, else $HF_HOME/token.
        """;

    public async Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string? spec = args.Get("model") ?? (args.Positional.Count == 1 ? args.Positional[0] : null);
        if (spec is null) throw new CliException("--model owner/name[@revision] is required.");
        if (args.Positional.Count > (args.Has("model") ? 0 : 1)) throw new CliException($"unexpected argument(s): {string.Join(' ', args.Positional)}.");
        if (!ModelReference.TryParse(spec, out var model)) throw new CliException($"--model: '{spec}' is not a Hub id (owner/name or owner/name@revision).");

        var options = HubOptions.FromEnvironment();
        if (args.Get("cache-dir") is { } cacheDir) options = options with { CacheDir = Path.GetFullPath(cacheDir) };
        if (args.Get("endpoint") is { } endpoint) options = options with { Endpoint = endpoint.TrimEnd('/') };
        if (args.Flag("offline")) options = options with { Offline = true };
        args.ThrowOnUnused();

        var progress = new StderrProgress(context.Stderr);
        try
        {
            string folder = await ModelLocator.ResolveAsync(model.ToString(), options, progress, cancellationToken).ConfigureAwait(false);
            context.Stdout.WriteLine(folder);
            return 0;
        }
        catch (HubException e)
        {
            throw new CliException(e.Message, 1);
        }
    }

    /// <summary>One line per file; for files of 1 MiB or more also about every tenth and the end.</summary>
    private sealed class StderrProgress(TextWriter stderr) : IProgress<HubDownloadProgress>
    {
        private string? _file;
        private int _lastTenth;

        public void Report(HubDownloadProgress p)
        {
            string prefix = $"[{p.FileIndex + 1}/{p.FileCount}] {p.File}";
            if (p.File != _file)
            {
                _file = p.File;
                _lastTenth = 0;
                if (p.BytesTotal is long t && p.BytesDone == t) { stderr.WriteLine($"{prefix} {Size(t)} (cached)"); _lastTenth = 10; return; }
                stderr.WriteLine($"{prefix} {(p.BytesTotal is long total ? Size(total) : "size unknown")}");
                return;
            }
            if (p.BytesTotal is not long size || size <= 0) return;
            int tenth = (int)(p.BytesDone * 10 / size);
            if (tenth > _lastTenth && tenth < 10 && size >= 1 << 20)
            {
                _lastTenth = tenth;
                stderr.WriteLine($"{prefix} {tenth * 10}% ({Size(p.BytesDone)} of {Size(size)})");
            }
            else if (tenth >= 10 && _lastTenth < 10)
            {
                _lastTenth = 10;
                if (size >= 1 << 20) stderr.WriteLine($"{prefix} done"); // small files: the first line says enough
            }
        }

        private static string Size(long bytes) => bytes >= 1 << 20
            ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB"
            : bytes >= 1 << 10 ? (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB" : bytes + " B";
    }
}
