using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Splade.Server.Metrics;

namespace Splade.Server.Http;

/// <summary>
/// The middleware in front of every endpoint: error mapping (the only place exceptions become
/// status codes), the API key check, the request log line and the request metrics.
/// </summary>
internal sealed class RequestPipeline(ServerOptions options, ServerMetrics metrics, ServerLifecycle lifecycle)
{
    private static readonly HashSet<string> KnownPaths =
        ["/embed_sparse", "/tokenize", "/decode", "/search", "/info", "/health", "/metrics", "/openapi.json", "/", "/invocations", "/ping",
         .. Endpoints.PageEndpoints.Assets.Select(a => a.Path).Where(p => p != "/")];

    /// <summary>Marks a request the pipeline already handles, so endpoints mapped beneath it do not run it twice.</summary>
    private static readonly object ActiveKey = new();

    private readonly byte[]? _expectedAuth = options.ApiKey is null ? null : Encoding.UTF8.GetBytes("Bearer " + options.ApiKey);
    private readonly TextWriter? _log = options.RequestLog is null ? null : TextWriter.Synchronized(options.RequestLog);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        long start = Stopwatch.GetTimestamp();
        context.Items[ActiveKey] = this;
        string path = context.Request.Path.Value ?? "/";
        bool aborted = false;
        try
        {
            if (lifecycle.Stopping && path != "/metrics")
            {
                context.Response.Headers.Connection = "close";
                throw new ApiException(ErrorType.Unhealthy, "the server is shutting down");
            }
            if (_expectedAuth is not null && !IsPublic(context.Request.Method, path) && !Authorized(context))
                throw new ApiException(ErrorType.Validation, "missing or wrong API key: send `Authorization: Bearer <key>`", StatusCodes.Status401Unauthorized);
            await next(context).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            await ApiErrors.WriteAsync(context, e.Status, e.Type, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            var type = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorType.Validation : ErrorType.Empty;
            await ApiErrors.WriteAsync(context, e.StatusCode, type, e.Message).ConfigureAwait(false);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (mid-request or mid-response); nothing can be sent. 499 is nginx's code for this case.
            if (!context.Response.HasStarted) context.Response.StatusCode = 499;
            aborted = true;
        }
        catch (IOException) when (context.Response.HasStarted)
        {
            // The connection broke while the answer was being written: the client is gone.
            aborted = true;
        }
        catch (Exception e)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorType.Backend, $"{e.GetType().Name}: {e.Message}").ConfigureAwait(false);
        }
        finally
        {
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            int status = aborted ? 499 : context.Response.StatusCode;
            metrics.RequestDone(KnownPaths.Contains(path) ? path : "other", status, seconds);
            _log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{context.Request.Method} {path} {status} {seconds * 1000:F1} ms"));
        }
    }

    /// <summary>True while <see cref="InvokeAsync"/> runs for <paramref name="context"/>.</summary>
    public static bool IsActive(HttpContext context) => context.Items.ContainsKey(ActiveKey);

    /// <summary>
    /// Liveness probes stay open without a key, as TEI leaves /health outside its auth layer; so do
    /// the page's static files (they hold no data: the page sends the key with its API calls).
    /// </summary>
    private static bool IsPublic(string method, string path) =>
        path is "/health" or "/ping" || (HttpMethods.IsGet(method) && Endpoints.PageEndpoints.IsAsset(path));

    private bool Authorized(HttpContext context)
    {
        string? header = context.Request.Headers.Authorization;
        if (header is null) return false;
        // Constant-time comparison: the key must not leak through response timing.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), _expectedAuth);
    }
}
