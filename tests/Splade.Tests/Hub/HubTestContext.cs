using Splade.Hub;

namespace Splade.Tests.Hub;

/// <summary>A fake Hub serving tiny-splade as <c>acme/tiny-splade</c>, plus a fresh cache folder removed afterwards.</summary>
internal sealed class HubTestContext : IDisposable
{
    public const string RepoId = "acme/tiny-splade";

    public HubTestContext(bool withExtras = true)
    {
        CacheDir = Path.Combine(Path.GetTempPath(), "splade-hub-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(CacheDir);
        Files = FakeHub.ReadFolder(TestData.Model("tiny-splade"));
        var served = new Dictionary<string, byte[]>(Files);
        if (withExtras)
        {
            // Files a sparse encoder must not download.
            served["onnx/model.onnx"] = [1, 2, 3];
            served["onnx/config.json"] = "{}"u8.ToArray();
            served["openvino/openvino_model.xml"] = "<xml/>"u8.ToArray();
            served["pytorch_model.bin"] = [9, 9, 9];
            served[".gitattributes"] = "*.safetensors filter=lfs"u8.ToArray();
            served["README.md"] = "# tiny"u8.ToArray();
            Files["README.md"] = served["README.md"];
        }
        Hub = new FakeHub();
        Commit = Hub.AddRepo(RepoId, served);
    }

    public FakeHub Hub { get; }
    public string CacheDir { get; }
    public string Commit { get; }

    /// <summary>The files a sparse encoder should end up with (path → bytes).</summary>
    public Dictionary<string, byte[]> Files { get; }

    public string RepoFolder => Path.Combine(CacheDir, "models--acme--tiny-splade");

    public HubOptions Options(string? token = null, bool offline = false) => new()
    {
        Endpoint = Hub.Endpoint,
        CacheDir = CacheDir,
        Token = token,
        Offline = offline,
        Timeout = TimeSpan.FromSeconds(5),
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        MaxRetries = 2,
        LockTimeout = TimeSpan.FromSeconds(5),
    };

    public void ClearRequests()
    {
        Hub.Hub.Requests.Clear();
        Hub.Cdn.Requests.Clear();
    }

    public void Dispose()
    {
        Hub.Dispose();
        try { Directory.Delete(CacheDir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Collects progress reports synchronously.</summary>
internal sealed class ListProgress<T> : IProgress<T>
{
    public List<T> Items { get; } = new();
    public void Report(T value) { lock (Items) Items.Add(value); }
}
