using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Splade.AI;

using Splade;
using Splade.Server;
using Splade.Server.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a SPLADE encoder and what its endpoints need in an application's services.</summary>
public static class SparseEncoderServiceCollectionExtensions
{
    /// <summary>
    /// Registers a sparse encoder configured by <paramref name="configuration"/>: the root
    /// configuration (settings under <c>Splade:</c>) or the section itself (it has a <c>Model</c> key).
    /// The model is loaded once, at application start, and warmed up there; a health check named
    /// <c>splade</c> reports it; <see cref="SparseEncoder"/> and
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of <see cref="SparseEmbedding"/> can be
    /// injected. Map the HTTP endpoints with
    /// <see cref="Microsoft.AspNetCore.Builder.SparseEncoderEndpointRouteBuilderExtensions.MapSparseEncoderEndpoints"/>.
    /// </summary>
    public static IServiceCollection AddSparseEncoder(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        IConfiguration section = configuration[nameof(SparseEncoderHostingOptions.Model)] is not null
            ? configuration
            : configuration.GetSection(SparseEncoderHostingOptions.SectionName);
        ThrowIfAdded(services);
        services.AddOptions<SparseEncoderHostingOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SparseEncoderHostingOptions>, SparseEncoderHostingOptionsValidator>());
        services.TryAddSingleton(sp => SparseEncoderRuntime.Load(sp.GetRequiredService<IOptions<SparseEncoderHostingOptions>>().Value));
        return AddShared(services);
    }

    /// <summary>
    /// Registers an already loaded <paramref name="encoder"/> with endpoint settings
    /// <paramref name="options"/> (its host and port are ignored: the application listens). The
    /// encoder and <see cref="ServerOptions.Index"/> stay the caller's to dispose.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit of <paramref name="options"/> is out of range.</exception>
    public static IServiceCollection AddSparseEncoder(this IServiceCollection services, SparseEncoder encoder, ServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(encoder);
        ThrowIfAdded(services);
        options ??= new ServerOptions();
        options.Validate();
        services.TryAddSingleton(_ => new SparseEncoderRuntime(encoder, options, ownsIndex: false, warmUp: true));
        return AddShared(services);
    }

    private static IServiceCollection AddShared(IServiceCollection services)
    {
        services.TryAddSingleton(sp => sp.GetRequiredService<SparseEncoderRuntime>().State.Encoder);
        services.TryAddSingleton<IEmbeddingGenerator<string, SparseEmbedding>>(sp =>
        {
            var state = sp.GetRequiredService<SparseEncoderRuntime>().State;
            return new SparseEmbeddingGenerator(state.Encoder, state.Options.ModelId);
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SparseEncoderWarmup>());
        services.AddHealthChecks().AddCheck<SparseEncoderHealthCheck>("splade");
        return services;
    }

    private static void ThrowIfAdded(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(SparseEncoderRuntime)))
            throw new InvalidOperationException("AddSparseEncoder was already called on these services: an application serves one sparse encoder.");
    }
}

/// <summary>Checks bound settings at start: the model is named and every limit is in range.</summary>
internal sealed class SparseEncoderHostingOptionsValidator : IValidateOptions<SparseEncoderHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, SparseEncoderHostingOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Model))
            return ValidateOptionsResult.Fail($"{SparseEncoderHostingOptions.SectionName}:Model is not set: give a model folder or a Hugging Face Hub id (owner/name[@revision]).");
        if (options.Threads is < 1)
            return ValidateOptionsResult.Fail($"{SparseEncoderHostingOptions.SectionName}:Threads must be at least 1; got {options.Threads}.");
        try
        {
            options.ToServerOptions().Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            return ValidateOptionsResult.Fail($"{SparseEncoderHostingOptions.SectionName}:{e.ParamName}: {e.Message.Split(" (Parameter")[0]}");
        }
        return ValidateOptionsResult.Success;
    }
}
