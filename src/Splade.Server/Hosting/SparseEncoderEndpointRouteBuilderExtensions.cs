using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Splade.Server.Endpoints;
using Splade.Server.Http;

using Splade;
using Splade.Server;
using Splade.Server.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Text Embeddings Inference shaped endpoints of <c>splade serve</c> into an application.</summary>
public static class SparseEncoderEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>POST /embed_sparse</c> (also <c>/</c> and <c>/invocations</c>), <c>/tokenize</c>,
    /// <c>/decode</c>, <c>/search</c>; <c>GET /info</c>, <c>/health</c>, <c>/ping</c>,
    /// <c>/metrics</c>, <c>/openapi.json</c>, and the search page at <c>GET /</c>. Every endpoint
    /// answers errors as <c>{"error", "error_type"}</c> with TEI's status codes, checks the API key
    /// and counts in <c>/metrics</c>. Needs
    /// <see cref="SparseEncoderServiceCollectionExtensions.AddSparseEncoder(IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>.
    /// Returns the group, for conventions such as authorization.
    /// </summary>
    /// <exception cref="InvalidOperationException">No sparse encoder is registered.</exception>
    public static RouteGroupBuilder MapSparseEncoderEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(SparseEncoderRuntime)))
            throw new InvalidOperationException("No sparse encoder is registered: call services.AddSparseEncoder(configuration) first.");

        var group = endpoints.MapGroup("");
        group.MapPost("/embed_sparse", Wrap(EmbedSparseEndpoint.Handle));
        // TEI serves the model's main route on "/" and on SageMaker's "/invocations" too.
        group.MapPost("/", Wrap(EmbedSparseEndpoint.Handle));
        group.MapPost("/invocations", Wrap(EmbedSparseEndpoint.Handle));
        group.MapPost("/tokenize", Wrap(TokenizeEndpoints.Tokenize));
        group.MapPost("/decode", Wrap(TokenizeEndpoints.Decode));
        group.MapPost("/search", Wrap(SearchEndpoint.Handle));
        group.MapGet("/info", Wrap(InfoEndpoints.Info));
        group.MapGet("/health", Wrap(Health));
        group.MapGet("/ping", Wrap(Health));
        group.MapGet("/metrics", Wrap(InfoEndpoints.Metrics));
        group.MapGet("/openapi.json", Wrap((c, _) => InfoEndpoints.OpenApi(c)));
        foreach (var asset in PageEndpoints.Assets)
            group.MapGet(asset.Path, Wrap((c, _) => PageEndpoints.Serve(c, asset)));
        return group;
    }

    private static Task Health(HttpContext context, ServingState state) =>
        InfoEndpoints.Health(context, context.RequestServices.GetRequiredService<SparseEncoderRuntime>().IsReady);

    /// <summary>
    /// The handler behind <see cref="RequestPipeline"/>: error mapping, API key, request log and
    /// metrics, unless the whole application already runs it as middleware (<see cref="SpladeServer"/>).
    /// </summary>
    private static RequestDelegate Wrap(Func<HttpContext, ServingState, Task> handler) => context =>
    {
        var runtime = context.RequestServices.GetRequiredService<SparseEncoderRuntime>();
        if (RequestPipeline.IsActive(context)) return handler(context, runtime.State);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = runtime.State.Options.PayloadLimit;
        return runtime.Pipeline.InvokeAsync(context, c => handler(c, runtime.State));
    };
}
