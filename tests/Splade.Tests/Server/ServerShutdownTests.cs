using System.Diagnostics;
using Splade.Server;

namespace Splade.Tests.Server;

/// <summary>
/// Graceful shutdown with requests queued in the batcher: each accepted request is answered, with
/// its vectors when its pass runs in time, else with a clean 503; the server stops within its
/// shutdown timeout.
/// </summary>
public sealed class ServerShutdownTests
{
    private static async Task<(ServerHarness H, Task<HttpResponseMessage> First, Task<HttpResponseMessage>[] Queued, ManualResetEventSlim Gate)> QueueBehindABlockedPassAsync(TimeSpan shutdownTimeout)
    {
        var gate = new ManualResetEventSlim(false);
        var entered = new SemaphoreSlim(0);
        var h = await ServerHarness.StartAsync(new ServerOptions
        {
            ShutdownTimeout = shutdownTimeout,
            BeforeForward = () => { entered.Release(); gate.Wait(TimeSpan.FromSeconds(30)); },
        });
        var first = h.PostAsync("/embed_sparse", new { inputs = "first" });
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)), "the first request never reached the model");
        var queued = Enumerable.Range(0, 10).Select(i => h.PostAsync("/embed_sparse", new { inputs = $"queued {i}" })).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (h.Server.Metrics.InFlight < 11 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(11, h.Server.Metrics.InFlight);
        return (h, first, queued, gate);
    }

    [Fact]
    public async Task Queued_requests_are_answered_when_their_passes_run_before_the_timeout()
    {
        var (h, first, queued, gate) = await QueueBehindABlockedPassAsync(TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();
        var stopping = h.Server.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted);
        gate.Set();
        Assert.Equal(200, (int)(await first).StatusCode);
        foreach (var q in queued) Assert.Equal(200, (int)(await q).StatusCode);
        await stopping;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed}");
        await h.DisposeAsync();
        gate.Dispose();
    }

    [Fact]
    public async Task Requests_still_queued_near_the_timeout_get_a_clean_503_and_the_server_exits_in_time()
    {
        var timeout = TimeSpan.FromSeconds(4);
        var (h, first, queued, gate) = await QueueBehindABlockedPassAsync(timeout);
        var clock = Stopwatch.StartNew();
        var stopping = h.Server.StopAsync();
        // New requests during shutdown are turned away cleanly (503) or find the listener closed.
        try
        {
            var late = await h.PostAsync("/embed_sparse", new { inputs = "late" });
            await ServerHarness.AssertError(late, 503, "Unhealthy");
        }
        catch (HttpRequestException) { /* listener already closed */ }
        // The queue is failed one second before the timeout, while the pass holding the batcher still runs;
        // that pass then ends, before the timeout.
        await Task.WhenAll(queued).WaitAsync(timeout + TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromSeconds(1.2), $"the queue was failed after {clock.Elapsed}, before the drain deadline");
        gate.Set();
        Assert.Equal(200, (int)(await first).StatusCode);
        foreach (var q in queued)
        {
            string error = await ServerHarness.AssertError(await q, 503, "Unhealthy");
            Assert.Contains("shutting down", error);
        }
        await stopping;
        Assert.True(clock.Elapsed < timeout + TimeSpan.FromSeconds(1.5), $"shutdown took {clock.Elapsed} with a {timeout} timeout");
        await h.DisposeAsync();
        gate.Dispose();
    }
}
