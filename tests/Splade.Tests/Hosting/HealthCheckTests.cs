using Microsoft.Extensions.Diagnostics.HealthChecks;
using Splade.Server;
using Splade.Server.Hosting;
using Splade.Tests.Server;

namespace Splade.Tests.Hosting;

/// <summary>The <c>splade</c> health check and <c>/health</c> follow the warm-up.</summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task Unhealthy_until_warmed_up_then_healthy()
    {
        using var runtime = new SparseEncoderRuntime(ServerHarness.Encoder, new ServerOptions { ModelId = "tiny" }, ownsIndex: false, warmUp: true);
        var check = new SparseEncoderHealthCheck(runtime);
        var before = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("warming up", before.Description);

        runtime.WarmUp(CancellationToken.None);
        var after = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.Equal("tiny", after.Data["model"]);
    }
}
