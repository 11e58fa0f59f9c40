using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Splade.Server.Metrics;

/// <summary>
/// Counters, gauges and histograms of the server, rendered in the Prometheus text exposition
/// format (version 0.0.4) by <see cref="Render"/>.
/// </summary>
public sealed class ServerMetrics
{
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] SizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    private static readonly double[] TokenBuckets = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

    private readonly ConcurrentDictionary<(string Endpoint, int Status), Counter> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new();
    private readonly Histogram _batchSequences = new(SizeBuckets);
    private readonly Histogram _batchTokens = new(TokenBuckets);
    private readonly Histogram _forwardSeconds = new(LatencyBuckets);
    private readonly Histogram _inputTokens = new(TokenBuckets);
    private long _tokens;
    private long _inflight;

    /// <summary>Reads the number of sequences waiting for a forward pass.</summary>
    public Func<int>? QueueDepth { get; set; }

    /// <summary>Model requests in flight (embed, search).</summary>
    public long InFlight => Interlocked.Read(ref _inflight);

    internal void EnterModel() => Interlocked.Increment(ref _inflight);

    internal void ExitModel() => Interlocked.Decrement(ref _inflight);

    /// <summary>Records one finished request.</summary>
    public void RequestDone(string endpoint, int status, double seconds)
    {
        _requests.GetOrAdd((endpoint, status), _ => new Counter()).Add(1);
        _latency.GetOrAdd(endpoint, _ => new Histogram(LatencyBuckets)).Observe(seconds);
    }

    /// <summary>Records the token count of one accepted input.</summary>
    public void InputTokens(int tokens)
    {
        Interlocked.Add(ref _tokens, tokens);
        _inputTokens.Observe(tokens);
    }

    /// <summary>Records one forward pass.</summary>
    public void BatchRun(int sequences, long tokens, double seconds)
    {
        _batchSequences.Observe(sequences);
        _batchTokens.Observe(tokens);
        _forwardSeconds.Observe(seconds);
    }

    /// <summary>Number of finished requests of <paramref name="endpoint"/> with <paramref name="status"/>.</summary>
    public long RequestCount(string endpoint, int status) =>
        _requests.TryGetValue((endpoint, status), out var c) ? c.Value : 0;

    /// <summary>Number of forward passes run.</summary>
    public long ForwardPasses => _batchSequences.Count;

    /// <summary>The Prometheus text exposition of every metric.</summary>
    public string Render()
    {
        var sb = new StringBuilder(4096);
        sb.Append("# HELP splade_requests_total HTTP requests by endpoint and status code.\n# TYPE splade_requests_total counter\n");
        foreach (var ((endpoint, status), c) in _requests.OrderBy(p => p.Key.Endpoint, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
            sb.Append("splade_requests_total{endpoint=\"").Append(endpoint).Append("\",status=\"").Append(status).Append("\"} ").Append(c.Value).Append('\n');
        sb.Append("# HELP splade_request_duration_seconds Request latency by endpoint.\n# TYPE splade_request_duration_seconds histogram\n");
        foreach (var (endpoint, h) in _latency.OrderBy(p => p.Key, StringComparer.Ordinal))
            h.Render(sb, "splade_request_duration_seconds", $"endpoint=\"{endpoint}\"");
        Gauge(sb, "splade_queue_depth", "Sequences waiting for a forward pass.", QueueDepth?.Invoke() ?? 0);
        Gauge(sb, "splade_inflight_requests", "Model requests (embed, search) in flight.", InFlight);
        sb.Append("# HELP splade_tokens_total Input tokens accepted for encoding.\n# TYPE splade_tokens_total counter\n");
        sb.Append("splade_tokens_total ").Append(Interlocked.Read(ref _tokens)).Append('\n');
        Histo(sb, "splade_input_tokens", "Tokens per input sequence.", _inputTokens);
        Histo(sb, "splade_batch_size", "Sequences per forward pass.", _batchSequences);
        Histo(sb, "splade_batch_tokens", "Tokens per forward pass.", _batchTokens);
        Histo(sb, "splade_forward_duration_seconds", "Duration of one forward pass.", _forwardSeconds);
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, long value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n")
          .Append(name).Append(' ').Append(value).Append('\n');

    private static void Histo(StringBuilder sb, string name, string help, Histogram h)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" histogram\n");
        h.Render(sb, name, null);
    }

    private sealed class Counter
    {
        private long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Add(long n) => Interlocked.Add(ref _value, n);
    }

    /// <summary>Cumulative-bucket histogram; one lock per observation is cheap next to a request.</summary>
    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private double _sum;
        private long _count;

        public long Count { get { lock (_counts) return _count; } }

        public void Observe(double x)
        {
            int b = 0;
            while (b < bounds.Length && x > bounds[b]) b++;
            lock (_counts)
            {
                _counts[b]++;
                _sum += x;
                _count++;
            }
        }

        public void Render(StringBuilder sb, string name, string? labels)
        {
            long[] counts;
            double sum;
            long count;
            lock (_counts)
            {
                counts = (long[])_counts.Clone();
                sum = _sum;
                count = _count;
            }
            string prefix = labels is null ? "" : labels + ",";
            long cumulative = 0;
            for (int b = 0; b < bounds.Length; b++)
            {
                cumulative += counts[b];
                sb.Append(name).Append("_bucket{").Append(prefix).Append("le=\"").Append(bounds[b].ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(cumulative).Append('\n');
            }
            sb.Append(name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(count).Append('\n');
            string l = labels is null ? "" : "{" + labels + "}";
            sb.Append(name).Append("_sum").Append(l).Append(' ').Append(sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append(name).Append("_count").Append(l).Append(' ').Append(count).Append('\n');
        }
    }
}
