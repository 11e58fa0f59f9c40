using Splade.Hub;

namespace Splade.Cli;

/// <summary>Loads the `--model` of a verb, reporting Hub downloads on stderr.</summary>
internal static class ModelLoading
{
    public static SparseEncoder Load(CommandArgs args, CliContext context, int? maxActiveDims = null) =>
        Load(args.Require("model"), args.GetInt("threads", min: 1, max: 1024), context.Stderr, maxActiveDims, PrecisionOption.Get(args));

    public static SparseEncoder Load(string model, int? threads, TextWriter stderr, int? maxActiveDims = null, Splade.Models.EncodePrecision precision = Splade.Models.EncodePrecision.Float32) =>
        SparseEncoder.Load(model, new SparseEncoderOptions
        {
            Threads = threads ?? Environment.ProcessorCount,
            MaxActiveDims = maxActiveDims,
            Precision = precision,
            DownloadProgress = new DownloadReporter(stderr),
        });

    /// <summary>Prints one line per file and at most one progress line per second per file; a file's
    /// completed line once, however often the download reports its last byte.</summary>
    internal sealed class DownloadReporter(TextWriter stderr) : IProgress<HubDownloadProgress>
    {
        private string? _file;
        private string? _finished;
        private DateTime _last;

        public void Report(HubDownloadProgress p)
        {
            lock (this)
            {
                bool done = p.BytesTotal is long t && p.BytesDone >= t;
                if (done && p.File == _finished) return;
                if (p.File != _file || done || DateTime.UtcNow - _last > TimeSpan.FromSeconds(1))
                {
                    string total = p.BytesTotal is long tt ? $"/{tt / 1e6:F1}" : "";
                    stderr.WriteLine($"download [{p.FileIndex + 1}/{p.FileCount}] {p.File}: {p.BytesDone / 1e6:F1}{total} MB");
                    _file = p.File;
                    _last = DateTime.UtcNow;
                    if (done) _finished = p.File;
                }
            }
        }
    }
}
