using System.Net;
using Splade.Search;
using Splade.Server;

namespace Splade.Cli.Commands;

/// <summary>`splade serve`: a Text Embeddings Inference compatible HTTP server.</summary>
internal sealed class ServeCommand : ICommand
{
    /// <summary>
    /// Opens the index folder given with --index. Null while no index implementation is wired in;
    /// then --index is refused with a clear message.
    /// </summary>
    /// <summary>Replaces how `--index DIR` is opened (tests); by default the embedded index, read-only.</summary>
    internal static Func<string, ISparseIndex>? IndexOpener { get; set; }

    public string Name => "serve";

    public string Summary => "Serve the model over HTTP with Text Embeddings Inference's API (/embed_sparse, ...).";

    public string Usage => """
        splade serve --model <folder|owner/name[@rev]> [options]

          --host H                     address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
          --port P                     TCP port (default 3000)
          --index DIR                  enable POST /search over this index
          --api-key K                  require `Authorization: Bearer K` (all routes but /health)
          --max-batch-tokens N         tokens per forward pass, summed over sequences (default 16384)
          --max-batch-requests N       sequences per forward pass (default: no limit; 1 disables batching)
          --max-client-batch-size N    inputs per request (default 32; more answers 413)
          --max-concurrent-requests N  model requests in flight (default 512; more answers 429)
          --max-input-length N         tokens per input (default and ceiling: the model's max_seq_length)
          --auto-truncate              truncate long inputs when a request does not say (default: 413)
          --payload-limit BYTES        largest request body (default 2000000; more answers 413)
          --threads N                  compute threads (default: all cores)
          --precision P                fp32 (default, exact), int8-decoder or int8 (faster approximations)
          --device D                   cpu (default), cuda, cuda:N (NVIDIA GPU, fp32) or ilgpu-cpu
          --quiet                      no request log on stderr
          --shutdown-timeout S         seconds shutdown waits for requests in flight (default 30); those
                                       still queued shortly before it are answered 503
          --request-headers-timeout S  seconds to receive a request's headers (default 30; slower: 408)
          --keep-alive-timeout S       seconds an idle connection stays open (default 130)
          --min-body-rate B            slowest accepted body in bytes/s after a 5 s grace (default 240; slower: 408; 0 off)
          --max-connections N          most open connections (default: no limit)

        Endpoints: POST /embed_sparse /tokenize /decode /search; GET /info /health /metrics /openapi.json.
        GET / is a search page: a query's expansion tokens and, with --index, the hits and the tokens behind each score.
        Errors are {"error", "error_type"} with TEI's status codes. Ctrl-C or SIGTERM stops
        accepting connections and finishes the requests in flight.
        """;

    public async Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string model = args.Require("model");
        var host = ParseHost(args.Get("host") ?? "127.0.0.1");
        int port = args.GetInt("port", min: 0, max: 65535) ?? 3000;
        string? indexDir = args.Get("index");
        string? apiKey = args.Get("api-key");
        if (apiKey is { Length: 0 }) throw new CliException("--api-key must not be empty.");
        var options = new ServerOptions
        {
            Host = host,
            Port = port,
            ModelId = model,
            ModelSha = model.Contains('@') ? model[(model.IndexOf('@') + 1)..] : null,
            ApiKey = apiKey,
            MaxBatchTokens = args.GetInt("max-batch-tokens", min: 1) ?? 16384,
            MaxBatchRequests = args.GetInt("max-batch-requests", min: 1),
            MaxClientBatchSize = args.GetInt("max-client-batch-size", min: 1) ?? 32,
            MaxConcurrentRequests = args.GetInt("max-concurrent-requests", min: 1) ?? 512,
            MaxInputLength = args.GetInt("max-input-length", min: 2),
            PayloadLimit = args.GetInt("payload-limit", min: 1) ?? 2_000_000,
            AutoTruncate = args.Flag("auto-truncate"),
            RequestLog = args.Flag("quiet") ? null : context.Stderr,
            ShutdownTimeout = Seconds(args, "shutdown-timeout", 30),
            RequestHeadersTimeout = Seconds(args, "request-headers-timeout", 30),
            KeepAliveTimeout = Seconds(args, "keep-alive-timeout", 130),
            MinRequestBodyDataRate = args.GetDouble("min-body-rate") is double rate ? (rate >= 0 ? rate : throw new CliException("--min-body-rate must be 0 or more.")) : 240,
            MaxConnections = args.GetInt("max-connections", min: 1),
        };
        _ = args.Has("threads");
        _ = args.Has("precision");
        _ = args.Has("device");
        args.ThrowOnUnused();

        var encoder = ModelLoading.Load(args, context);
        ISparseIndex? index = indexDir is null ? null : OpenIndex(indexDir);
        try
        {
            await using var server = SpladeServer.Create(encoder, options with { Index = index });
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            context.Stderr.WriteLine($"splade serve: listening on {server.BaseAddress} (model {model}, max_input_length {Math.Min(options.MaxInputLength ?? encoder.MaxSeqLength, encoder.MaxSeqLength)}, max_batch_tokens {options.MaxBatchTokens}{(index is null ? "" : $", index {indexDir} with {index.Count} documents")})");
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
            context.Stderr.WriteLine("splade serve: stopped.");
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"cannot listen on {host}:{port}: {e.Message}");
        }
        finally
        {
            index?.Dispose();
        }
        return 0;
    }

    private static TimeSpan Seconds(CommandArgs args, string name, double fallback)
    {
        double s = args.GetDouble(name) ?? fallback;
        if (s <= 0) throw new CliException($"--{name} must be a positive number of seconds.");
        return TimeSpan.FromSeconds(s);
    }

    private static IPAddress ParseHost(string host)
    {
        if (host is "localhost") return IPAddress.Loopback;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        throw new CliException($"--host must be an IP address or localhost, got '{host}'.");
    }

    private static ISparseIndex OpenIndex(string dir)
    {
        if (!Directory.Exists(dir)) throw new CliException($"--index: folder '{dir}' does not exist.");
        if (IndexOpener is { } opener) return opener(dir);
        if (!Splade.Search.InvertedIndex.Exists(dir)) throw new CliException($"--index: '{dir}' is not an index (build one with `splade index`).");
        return Splade.Search.InvertedIndex.Open(dir, new Splade.Search.InvertedIndexOptions { ReadOnly = true });
    }
}
