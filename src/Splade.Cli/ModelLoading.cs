using Splade.Hub;

namespace Splade.Cli;

/// <summary>Loads the `--model` of a verb, reporting Hub downloads on stderr.</summary>
internal static class ModelLoading
{
    public static SparseEncoder Load(CommandArgs args, CliContext context, int? maxActiveDims = null) =>
        Load(args.Require("model"), args.GetInt("threads", min: 1, max: 1024), context.Stderr, maxActiveDims, PrecisionOption.Get(args), DeviceOption.Get(args));

    /// <summary>Loads a model; a device that cannot be used, or a precision it lacks, is a one-line error (exit 1 and 2).</summary>
    public static SparseEncoder Load(string model, int? threads, TextWriter stderr, int? maxActiveDims = null, Splade.Models.EncodePrecision precision = Splade.Models.EncodePrecision.Float32, string device = "cpu")
    {
        if (device != "cpu" && precision is not (Splade.Models.EncodePrecision.Float32 or Splade.Models.EncodePrecision.Float16))
            throw new CliException($"--precision {PrecisionOption.Name(precision)} runs on the cpu device only; --device {device} computes in fp32 or fp16.");
        if (device == "cpu" && precision == Splade.Models.EncodePrecision.Float16)
            throw new CliException("--precision fp16 runs on a device: add --device cuda (or ilgpu-cpu); the cpu kernels compute in fp32, int8-decoder or int8.");
        try
        {
            return SparseEncoder.Load(model, new SparseEncoderOptions
            {
                Threads = threads ?? Environment.ProcessorCount,
                MaxActiveDims = maxActiveDims,
                Precision = precision,
                Device = device,
                DownloadProgress = new DownloadReporter(stderr),
            });
        }
        catch (Splade.Devices.DeviceUnavailableException e)
        {
            throw new CliException(e.Message, exitCode: 1);
        }
    }

    /// <summary>Prints nothing for files already in the cache; one line per downloaded file when it completes; for files of a megabyte or more (or of unknown
    /// size) also a line when it starts and at most one progress line per second. A file's completed line
    /// once, however often the download reports its last byte.</summary>
    internal sealed class DownloadReporter(TextWriter stderr) : IProgress<HubDownloadProgress>
    {
        private const long LargeFile = 1_000_000;
        private string? _file;
        private string? _finished;
        private DateTime _last;

        public void Report(HubDownloadProgress p)
        {
            lock (this)
            {
                if (p.FromCache) return; // nothing downloaded, nothing to say
                bool done = p.BytesTotal is long t && p.BytesDone >= t;
                if (done && p.File == _finished) return;
                bool large = p.BytesTotal is not long size || size >= LargeFile;
                bool print = done || (large && (p.File != _file || DateTime.UtcNow - _last > TimeSpan.FromSeconds(1)));
                if (print)
                {
                    string amount = Amount(p.BytesDone, p.BytesTotal);
                    stderr.WriteLine($"download [{p.FileIndex + 1}/{p.FileCount}] {p.File}: {amount}");
                    _last = DateTime.UtcNow;
                    if (done) _finished = p.File;
                }
                _file = p.File;
            }
        }

        /// <summary>"done/total unit" (or "done unit" when the total is unknown), in MB for files of a megabyte
        /// or more, else in kB.</summary>
        private static string Amount(long done, long? total)
        {
            bool mb = (total ?? done) >= LargeFile;
            double scale = mb ? 1e6 : 1e3;
            string unit = mb ? "MB" : "kB";
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            return total is long t
                ? string.Create(inv, $"{done / scale:F1}/{t / scale:F1} {unit}")
                : string.Create(inv, $"{done / scale:F1} {unit}");
        }
    }
}
