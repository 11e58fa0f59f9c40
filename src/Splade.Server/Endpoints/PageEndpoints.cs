using Microsoft.AspNetCore.Http;

namespace Splade.Server.Endpoints;

/// <summary>
/// The search page: <c>GET /</c> (HTML), <c>/page/app.css</c> and <c>/page/app.js</c>, plain files
/// embedded in this assembly (no build step, nothing fetched from elsewhere).
/// </summary>
internal static class PageEndpoints
{
    /// <summary>One embedded file: its URL path, resource name, content type and bytes.</summary>
    internal sealed class Asset(string path, string resource, string contentType)
    {
        private readonly Lazy<byte[]> _bytes = new(() => Load(resource));

        public string Path { get; } = path;
        public string ContentType { get; } = contentType;
        public byte[] Bytes => _bytes.Value;
    }

    public static IReadOnlyList<Asset> Assets { get; } =
    [
        new("/", "Splade.Server.Page.index.html", "text/html; charset=utf-8"),
        new("/page/app.css", "Splade.Server.Page.app.css", "text/css; charset=utf-8"),
        new("/page/app.js", "Splade.Server.Page.app.js", "text/javascript; charset=utf-8"),
    ];

    public static bool IsAsset(string path) => Assets.Any(a => a.Path == path);

    public static async Task Serve(HttpContext context, Asset asset)
    {
        byte[] bytes = asset.Bytes;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = bytes.Length;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        // The page loads only its own files and calls only this server.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:";
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static byte[] Load(string resource)
    {
        using var s = typeof(PageEndpoints).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The page file {resource} is missing from the assembly.");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
