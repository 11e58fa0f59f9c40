using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Splade.Server.Http;
using Splade.Server.Metrics;
using Splade.Sparse;

namespace Splade.Server.Batching;

/// <summary>
/// Merges the token sequences of concurrent requests into forward passes, like TEI's queue:
/// requests are queued on a channel; one background thread takes everything waiting, builds a
/// batch of sequences of one route under the token budget (<c>max_batch_tokens</c>, unpadded sum)
/// and sequence cap (<c>max_batch_requests</c>), runs it and hands each request its vectors. While
/// a pass runs, new requests accumulate, so under load the server runs fewer, larger passes. The
/// kernels compute every row with the same chain of operations however rows are batched, so a
/// request gets the same vectors whatever it was batched with.
/// </summary>
internal sealed class DynamicBatcher : IDisposable
{
    /// <summary>Runs one forward pass: sequences of one route in, one vector per sequence out.</summary>
    public delegate SparseVector[] ForwardFunc(IReadOnlyList<int[]> sequences, string route);

    private readonly Channel<Job> _channel = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Item> _pending = new();
    private readonly ConcurrentDictionary<Job, byte> _outstanding = new();
    private readonly ForwardFunc _forward;
    private readonly int _maxBatchTokens;
    private readonly int _maxBatchSequences;
    private readonly ServerMetrics _metrics;
    private readonly Action? _beforeForward;
    private readonly Thread _thread;
    private int _queuedSequences;

    public DynamicBatcher(ForwardFunc forward, int maxBatchTokens, int? maxBatchSequences, ServerMetrics metrics, Action? beforeForward = null)
    {
        _forward = forward;
        _maxBatchTokens = maxBatchTokens;
        _maxBatchSequences = maxBatchSequences ?? int.MaxValue;
        _metrics = metrics;
        _beforeForward = beforeForward;
        _thread = new Thread(Run) { IsBackground = true, Name = "splade-batcher" };
        _thread.Start();
    }

    /// <summary>Sequences waiting for a forward pass.</summary>
    public int QueueDepth => Volatile.Read(ref _queuedSequences);

    /// <summary>Encodes the sequences of one request (each already validated against the model's limits), in order.</summary>
    public async Task<SparseVector[]> EncodeAsync(int[][] sequences, string route, CancellationToken cancellationToken)
    {
        if (sequences.Length == 0) return [];
        var job = new Job(sequences, route);
        Interlocked.Add(ref _queuedSequences, sequences.Length);
        _outstanding[job] = 0;
        if (!_channel.Writer.TryWrite(job))
        {
            _outstanding.TryRemove(job, out _);
            Interlocked.Add(ref _queuedSequences, -sequences.Length);
            throw ShuttingDown("the server is shutting down");
        }
        // A request whose client went away is dropped from the queue before its pass runs.
        using var registration = cancellationToken.Register(() => job.Completion.TrySetCanceled(cancellationToken));
        try
        {
            return await job.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            _outstanding.TryRemove(job, out _);
        }
    }

    private static ApiException ShuttingDown(string why) => new(ErrorType.Unhealthy, why);

    /// <summary>
    /// Answers every request still waiting for the model (not part of the pass now running) with a
    /// 503 error: called shortly before the shutdown timeout, so they get a clean answer rather than a
    /// dropped connection. Thread-safe; the batcher drops the failed jobs' sequences before its next pass.
    /// </summary>
    public void FailQueued(string why)
    {
        foreach (var job in _outstanding.Keys)
            if (Volatile.Read(ref job.InPass) == 0) job.Fail(ShuttingDown(why));
    }

    private void Run()
    {
        var reader = _channel.Reader;
        while (true)
        {
            if (_pending.Count == 0)
            {
                // Block this dedicated thread until a request arrives or the channel is completed.
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) return;
            }
            while (reader.TryRead(out var job))
                for (int i = 0; i < job.Sequences.Length; i++) _pending.Add(new Item(job, i));
            RunOneBatch();
        }
    }

    private void RunOneBatch()
    {
        // Drop the sequences of requests that were cancelled or already failed.
        int dropped = _pending.RemoveAll(it => it.Job.IsDone);
        if (dropped > 0) Interlocked.Add(ref _queuedSequences, -dropped);
        if (_pending.Count == 0) return;

        string route = _pending[0].Job.Route;
        var batch = new List<Item>();
        long tokens = 0;
        foreach (var it in _pending)
        {
            if (it.Job.Route != route) continue;
            int length = it.Job.Sequences[it.Index].Length;
            if (batch.Count > 0 && (tokens + length > _maxBatchTokens || batch.Count >= _maxBatchSequences)) break;
            batch.Add(it);
            tokens += length;
        }
        var taken = new HashSet<Item>(batch);
        _pending.RemoveAll(taken.Contains);
        Interlocked.Add(ref _queuedSequences, -batch.Count);

        var sequences = new int[batch.Count][];
        for (int i = 0; i < batch.Count; i++) sequences[i] = batch[i].Job.Sequences[batch[i].Index];
        var clock = Stopwatch.StartNew();
        SparseVector[] vectors;
        foreach (var it in batch) Interlocked.Increment(ref it.Job.InPass);
        try
        {
            _beforeForward?.Invoke();
            vectors = _forward(sequences, route);
        }
        catch (Exception e)
        {
            foreach (var it in batch) it.Job.Fail(e);
            return;
        }
        finally
        {
            foreach (var it in batch) Interlocked.Decrement(ref it.Job.InPass);
        }
        _metrics.BatchRun(batch.Count, tokens, clock.Elapsed.TotalSeconds);
        for (int i = 0; i < batch.Count; i++) batch[i].Job.Deliver(batch[i].Index, vectors[i]);
    }

    /// <summary>Stops taking requests; requests already queued are still served, then the thread ends.</summary>
    public void Dispose() => Dispose(TimeSpan.FromSeconds(30));

    /// <summary>As <see cref="Dispose()"/>, waiting at most <paramref name="wait"/> for the thread.</summary>
    public void Dispose(TimeSpan wait)
    {
        _channel.Writer.TryComplete();
        _thread.Join(wait);
    }

    private readonly record struct Item(Job Job, int Index);

    private sealed class Job
    {
        private readonly SparseVector[] _results;
        private int _remaining;

        public Job(int[][] sequences, string route)
        {
            Sequences = sequences;
            Route = route;
            _results = new SparseVector[sequences.Length];
            _remaining = sequences.Length;
            Completion = new TaskCompletionSource<SparseVector[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>Sequences of this job in the forward pass now running (set by the batcher thread).</summary>
        public int InPass;

        public int[][] Sequences { get; }
        public string Route { get; }
        public TaskCompletionSource<SparseVector[]> Completion { get; }
        public bool IsDone => Completion.Task.IsCompleted;

        public void Deliver(int index, SparseVector vector)
        {
            _results[index] = vector;
            if (--_remaining == 0) Completion.TrySetResult(_results);
        }

        public void Fail(Exception e) => Completion.TrySetException(e);
    }
}
