using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Splade.Tests.Hub;

/// <summary>A request as the server saw it.</summary>
internal sealed record RecordedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The request body (read by Content-Length; empty without one).</summary>
    public byte[] Body { get; init; } = [];

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>An answer; <see cref="SendOnly"/> cuts the body short and closes the connection (a broken transfer).</summary>
internal sealed class CannedResponse
{
    public int Status { get; init; } = 200;
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);
    public byte[] Body { get; init; } = [];
    public int? SendOnly { get; init; }

    /// <summary>Silence before the status line (a server that does not answer).</summary>
    public TimeSpan DelayBeforeHeaders { get; init; }

    /// <summary>Silence between the headers and the body (a stalled transfer).</summary>
    public TimeSpan DelayBeforeBody { get; init; }
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 with an ephemeral port: one request per connection
/// (<c>Connection: close</c>), request headers limited to 64 KiB, at most 16 connections at once, every
/// connection bounded to 10 s. Records every request. Disposing stops it and waits for its loop.
/// </summary>
internal sealed class MiniHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<RecordedRequest, CannedResponse> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(16);
    private readonly Task _loop;

    public MiniHttpServer(Func<RecordedRequest, CannedResponse> handler)
    {
        _handler = handler;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            await _slots.WaitAsync();
            _ = Task.Run(async () =>
            {
                try { await ServeAsync(client); }
                catch (Exception) { /* a client that went away */ }
                finally { client.Dispose(); _slots.Release(); }
            });
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var stream = client.GetStream();
        var (head, rest) = await ReadHeadAsync(stream, timeout.Token);
        if (head is null) return;
        var lines = head.Split("\r\n");
        var first = lines[0].Split(' ');
        if (first.Length < 2) return;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var body = rest;
        if (headers.TryGetValue("Content-Length", out var lengthText) && long.TryParse(lengthText, out long length) && length > body.Length)
        {
            var full = new byte[length];
            body.CopyTo(full, 0);
            int filled = body.Length;
            while (filled < length)
            {
                int n = await stream.ReadAsync(full.AsMemory(filled), timeout.Token);
                if (n == 0) break;
                filled += n;
            }
            body = full[..filled];
        }
        var request = new RecordedRequest(first[0], first[1], headers) { Body = body };
        Requests.Enqueue(request);
        var response = _handler(request);

        if (response.DelayBeforeHeaders > TimeSpan.Zero) await Task.Delay(response.DelayBeforeHeaders, timeout.Token);
        var sb = new StringBuilder();
        sb.Append($"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\n");
        foreach (var (k, v) in response.Headers) sb.Append($"{k}: {v}\r\n");
        if (!response.Headers.ContainsKey("Content-Length")) sb.Append($"Content-Length: {response.Body.Length}\r\n");
        sb.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), timeout.Token);
        if (request.Method != "HEAD")
        {
            await stream.FlushAsync(timeout.Token);
            if (response.DelayBeforeBody > TimeSpan.Zero) await Task.Delay(response.DelayBeforeBody, timeout.Token);
            int n = Math.Min(response.SendOnly ?? response.Body.Length, response.Body.Length);
            await stream.WriteAsync(response.Body.AsMemory(0, n), timeout.Token);
        }
        await stream.FlushAsync(timeout.Token);
        client.Client.Shutdown(SocketShutdown.Both);
    }

    /// <summary>Reads up to the blank line; returns the head and the body bytes already read past it.</summary>
    private static async Task<(string? Head, byte[] Remainder)> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(filled), ct);
            if (n == 0) return (null, []);
            filled += n;
            int end = Encoding.ASCII.GetString(buffer, 0, filled).IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0) return (Encoding.ASCII.GetString(buffer, 0, end), buffer[(end + 4)..filled]);
        }
        return (null, []);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK", 201 => "Created", 206 => "Partial Content", 302 => "Found", 307 => "Temporary Redirect", 401 => "Unauthorized", 403 => "Forbidden",
        404 => "Not Found", 409 => "Conflict", 416 => "Range Not Satisfiable", 500 => "Internal Server Error", _ => "Status",
    };

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
