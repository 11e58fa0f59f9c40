using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Splade.Server.Hosting;

/// <summary>Healthy once the encoder is loaded and warmed up; unhealthy before (registered as <c>splade</c>).</summary>
internal sealed class SparseEncoderHealthCheck(SparseEncoderRuntime runtime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!runtime.IsReady) return Task.FromResult(HealthCheckResult.Unhealthy("the sparse encoder is warming up"));
        var data = new Dictionary<string, object>
        {
            ["model"] = runtime.State.Options.ModelId ?? runtime.State.Encoder.ModelPath,
            ["queue_depth"] = runtime.State.Batcher.QueueDepth,
            ["in_flight"] = runtime.State.Metrics.InFlight,
        };
        return Task.FromResult(HealthCheckResult.Healthy("the sparse encoder is loaded", data));
    }
}
