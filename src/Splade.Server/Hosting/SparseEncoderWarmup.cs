using Microsoft.Extensions.Hosting;

namespace Splade.Server.Hosting;

/// <summary>
/// At application start: loads the model (once, here, not on the first request) and warms it up.
/// At shutdown (hosted services stop before the web server does): new requests to the endpoints get 503.
/// </summary>
internal sealed class SparseEncoderWarmup(SparseEncoderRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        runtime.WarmUp(cancellationToken);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.State.Lifecycle.Stopping = true;
        return Task.CompletedTask;
    }
}
