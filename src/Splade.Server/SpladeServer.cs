using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Splade.Server.Hosting;
using Splade.Server.Http;
using Splade.Server.Metrics;

namespace Splade.Server;

/// <summary>
/// An HTTP server speaking Text Embeddings Inference's API for a <see cref="SparseEncoder"/>
/// (Kestrel, minimal API): <c>/embed_sparse</c>, <c>/tokenize</c>, <c>/decode</c>, <c>/info</c>,
/// <c>/health</c>, <c>/metrics</c>, <c>/openapi.json</c> and <c>/search</c> over an optional index.
/// Concurrent requests are merged into forward passes by a dynamic batcher. The endpoints are those
/// of <see cref="SparseEncoderEndpointRouteBuilderExtensions.MapSparseEncoderEndpoints"/>; to serve
/// them from an application of your own, use that and
/// <see cref="SparseEncoderServiceCollectionExtensions.AddSparseEncoder(IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>.
/// </summary>
public sealed class SpladeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServingState _state;
    private bool _started;
    private bool _stopped;

    private SpladeServer(WebApplication app, ServingState state)
    {
        _app = app;
        _state = state;
    }

    /// <summary>Builds a server for <paramref name="encoder"/>; call <see cref="StartAsync"/> to listen.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit of <paramref name="options"/> is out of range.</exception>
    public static SpladeServer Create(SparseEncoder encoder, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(c => c.SuppressStatusMessages = true);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Host, options.Port);
            k.Limits.MaxRequestBodySize = options.PayloadLimit;
            k.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
            k.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
            k.Limits.MinRequestBodyDataRate = options.MinRequestBodyDataRate > 0
                ? new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(options.MinRequestBodyDataRate, options.MinRequestBodyGracePeriod)
                : null;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            k.AddServerHeader = false;
        });

        builder.Services.AddSparseEncoder(encoder, options);
        var app = builder.Build();
        var runtime = app.Services.GetRequiredService<SparseEncoderRuntime>();
        app.Use(runtime.Pipeline.InvokeAsync);
        app.MapSparseEncoderEndpoints();
        app.MapFallback((HttpContext c) => throw new ApiException(ErrorType.Empty,
            $"no route {c.Request.Method} {c.Request.Path}; see /openapi.json", StatusCodes.Status404NotFound));
        var state = runtime.State;
        return new SpladeServer(app, state);
    }

    /// <summary>The metrics served at <c>/metrics</c>.</summary>
    public ServerMetrics Metrics => _state.Metrics;

    /// <summary>The port actually bound (after <see cref="StartAsync"/>; useful with port 0).</summary>
    public int Port
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            string? first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("The server is not started.");
            return new Uri(first.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        }
    }

    /// <summary>http://host:port/ of the listening socket.</summary>
    public Uri BaseAddress
    {
        get
        {
            var host = _state.Options.Host;
            string h = host.Equals(IPAddress.Any) ? "127.0.0.1" : host.Equals(IPAddress.IPv6Any) ? "[::1]"
                : host.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host.ToString();
            return new Uri($"http://{h}:{Port}/");
        }
    }

    /// <summary>Binds the socket and starts serving.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started) return;
        _started = true;
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves until <paramref name="cancellationToken"/> is cancelled or the process gets SIGTERM /
    /// Ctrl-C, then shuts down gracefully (requests in flight are finished). Starts the server if needed.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        await _app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Stops listening, waits for requests in flight (up to the shutdown timeout), then stops the batcher.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped) return;
        _stopped = true;
        // From now on new requests get 503; shortly before the timeout, requests still queued for the
        // model get 503 too, so every accepted request is answered before Kestrel drops what is left.
        _state.Lifecycle.Stopping = true;
        var timeout = _state.Options.ShutdownTimeout;
        var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, timeout.Ticks / 4));
        using var drain = new CancellationTokenSource(timeout - margin);
        using var registration = drain.Token.Register(() => _state.Batcher.FailQueued("the server is shutting down"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        _state.Batcher.FailQueued("the server is shutting down");
        var left = timeout - clock.Elapsed;
        _state.Batcher.Dispose(left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
