using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Splade.Tests.Engines;

/// <summary>One request as the fake server saw it.</summary>
internal sealed record CapturedRequest(string Method, string PathAndQuery, string? ContentType, string Body);

/// <summary>
/// A loopback HTTP server that records every request and answers with <c>respond</c>'s
/// (status, JSON) — enough to check what the HTTP writers send without a real engine.
/// </summary>
internal sealed class FakeHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<CapturedRequest, (int Status, string Body)> _respond;
    private readonly Task _loop;

    public FakeHttpServer(Func<CapturedRequest, (int Status, string Body)> respond)
    {
        _respond = respond;
        int port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseAddress.ToString());
        _listener.Start();
        _loop = Task.Run(Loop);
    }

    public Uri BaseAddress { get; }

    public List<CapturedRequest> Requests { get; } = [];

    public HttpClient Client() => new() { BaseAddress = BaseAddress };

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            string body;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync();
            var request = new CapturedRequest(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, context.Request.ContentType, body);
            lock (Requests) Requests.Add(request);
            var (status, answer) = _respond(request);
            byte[] bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
    }
}
