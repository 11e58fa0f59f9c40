using Splade.Tensors;

namespace Splade.Tests.Tensors;

public sealed class ComputePoolTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 1000)]
    public void Every_job_runs_exactly_once(int threads, int jobs)
    {
        var pool = new ComputePool(threads);
        for (int round = 0; round < 20; round++)
        {
            var counts = new int[jobs];
            pool.For(jobs, i => Interlocked.Increment(ref counts[i]));
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    [Fact]
    public void A_failing_job_is_rethrown_after_the_others_finish()
    {
        var pool = new ComputePool(2);
        int done = 0;
        var e = Assert.Throws<InvalidOperationException>(() => pool.For(64, i =>
        {
            if (i == 5) throw new InvalidOperationException("job 5");
            Interlocked.Increment(ref done);
        }));
        Assert.Equal("job 5", e.Message);
        Assert.Equal(63, done);
        // The pool still works afterwards.
        int after = 0;
        pool.For(10, _ => Interlocked.Increment(ref after));
        Assert.Equal(10, after);
    }

    [Fact]
    public void A_failing_job_on_one_thread_still_lets_the_others_run()
    {
        int done = 0;
        var e = Assert.Throws<InvalidOperationException>(() => ComputePool.Serial.For(64, i =>
        {
            if (i == 5) throw new InvalidOperationException("job 5");
            Interlocked.Increment(ref done);
        }));
        Assert.Equal("job 5", e.Message);
        Assert.Equal(63, done);
    }

    [Fact]
    public void Nested_and_concurrent_calls_complete()
    {
        var pool = new ComputePool(2);
        var totals = new long[4];
        Parallel.For(0, 4, caller =>
        {
            for (int round = 0; round < 50; round++)
                pool.For(8, i => pool.For(4, j => Interlocked.Add(ref totals[caller], 1)));
        });
        Assert.All(totals, t => Assert.Equal(50 * 8 * 4, t));
    }
}
